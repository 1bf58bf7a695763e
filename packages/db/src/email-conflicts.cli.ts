// `pnpm accounts:conflicts`: the accounts whose email address is not in its normal form since
// addresses have one (docs/operating.md, "Upgrade notes"), mostly accounts that share an address,
// and their resolution. DATABASE_URL (or DATABASE_URL_FILE) and DATABASE_POOLER from the environment
// or .env (ENV_FILE), checked as the services check them.
//
//   pnpm accounts:conflicts                          lists them, by address
//   pnpm accounts:conflicts --keep <userId> [--yes]  keeps that account for its address: deletes
//                                                    the others sharing it, converts the address
//
// Addresses are printed masked, never whole, though an operator asked: this output ends up in
// scrollback, CI logs and tickets. The ids are what the command needs; an operator who must write
// to the person reads the address from the database by id.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { maskEmail } from '@otp/domain';
import { commandDatabaseSettings } from './cli-database.ts';
import { createDb } from './connection.ts';
import { type EmailIdentityAccount, findEmailIdentityGroups, keepEmailIdentity } from './email-identity.repository.ts';

const USAGE = `usage: pnpm accounts:conflicts                          list the accounts to resolve
       pnpm accounts:conflicts --keep <userId> [--yes]  keep that account, delete the others sharing its address
`;

const out = (text: string) => process.stdout.write(`${text}\n`);
const at = (date: Date | null) => (date === null ? '-' : date.toISOString().slice(0, 16).replace('T', ' '));

/** The accounts as an aligned table, one row each; the address masked. */
function table(accounts: EmailIdentityAccount[]): string {
  const rows = [
    ['id', 'stored as', 'created', 'verified', 'password', 'factors', 'sessions', 'last sign-in'],
    ...accounts.map((a) => [
      a.id,
      maskEmail(a.email),
      at(a.createdAt),
      at(a.emailVerifiedAt),
      a.hasPassword ? 'yes' : 'no',
      String(a.factors),
      String(a.sessions),
      at(a.lastSignInAt),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd())
    .join('\n');
}

async function list(db: ReturnType<typeof createDb>): Promise<void> {
  const groups = await findEmailIdentityGroups(db);
  if (groups.length === 0) {
    out('Every account holds its email address in the normal form, and no two share one.');
    return;
  }
  const shared = groups.filter((group) => group.accounts.length > 1).length;
  out(`${shared} address(es) shared by more than one account; ${groups.length - shared} account(s) alone, to convert.`);
  out('Times in UTC.');
  for (const group of groups) {
    const count = group.accounts.length;
    out(
      `\n${maskEmail(group.email)}: ${count === 1 ? 'one account, not in the normal form yet' : `${count} accounts`}`,
    );
    out(table(group.accounts));
  }
  out('\nKeep one account per address (the others are deleted): pnpm accounts:conflicts --keep <id>');
}

/** Asks on the terminal; without one, the operator must have said --yes. */
async function confirmed(count: number): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write('Not a terminal: run again with --yes to delete them.\n');
    return false;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await prompt.question(`Type "delete" to delete ${count} account(s): `)).trim() === 'delete';
  } finally {
    prompt.close();
  }
}

async function keep(db: ReturnType<typeof createDb>, userId: string, yes: boolean): Promise<boolean> {
  const group = (await findEmailIdentityGroups(db)).find((g) => g.accounts.some((a) => a.id === userId));
  if (group === undefined) {
    process.stderr.write(`${userId}: not listed by pnpm accounts:conflicts, nothing to resolve.\n`);
    return false;
  }
  const others = group.accounts.filter((account) => account.id !== userId);
  out(`Keeping ${userId} for ${maskEmail(group.email)}.`);
  if (others.length > 0) {
    out('Deleting, with their sessions, factors, recovery codes and codes:');
    out(table(others));
    if (!yes && !(await confirmed(others.length))) {
      process.stderr.write('Nothing changed.\n');
      return false;
    }
  }
  const result = await keepEmailIdentity(db, userId);
  out(`Done: ${result.kept} holds ${maskEmail(result.email)}; deleted ${result.removed.length} account(s).`);
  return true;
}

let options: { keep?: string; yes?: boolean; help?: boolean };
try {
  options = parseArgs({
    options: { keep: { type: 'string' }, yes: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (options.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { url, pooler } = commandDatabaseSettings();
const db = createDb({ url, pooler, poolSize: 1, statementTimeoutMs: 60_000, applicationName: 'otp-email-conflicts' });
try {
  if (options.keep === undefined) await list(db);
  else if (!(await keep(db, options.keep, options.yes === true))) process.exitCode = 1;
} catch (error) {
  process.stderr.write(`accounts:conflicts failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
