// `ops kill-switch`: switches a channel, an SMS country or a provider off and on again, for every
// gateway and worker replica at once (they read the table every KILL_SWITCH_REFRESH_MS). DATABASE_URL
// from the environment or .env. The change is recorded in the table (who, when) and printed here;
// the replicas log it when they see it.
import { parseArgs } from 'node:util';
import { createDb, type Database, type KillSwitch, type Kysely, listKillSwitches, setKillSwitch } from '@otp/db';
import { DatabasePooler, KILL_SWITCH_TARGET_FORMS, PostgresUrl, parseConfig, parseKillSwitchTarget } from '@otp/domain';
import { exitOnConfigError, REPOSITORY_ENV_FILE, readEnvironment } from '@otp/runtime';
import Type from 'typebox';
import { changedBy, out, usageError as usage } from './cli.ts';

export const USAGE = `usage: ops kill-switch <target> <off|on> [--by <name>]   switch a target off (refused, held) or back on
       ops kill-switch list                                 every switch set so far
  <target>: ${KILL_SWITCH_TARGET_FORMS.join(', ')} (XX: an ISO 3166-1 alpha-2 code, e.g. GB)
  --by:     who is switching, recorded with the change (default: the OS user)
`;

const STATES = { off: true, on: false } as const;

const usageError = (message: string) => usage(USAGE, message);

function describe(row: KillSwitch): string {
  const state = row.off ? 'off (requests refused with 503 channel_suspended, queued sends held)' : 'on';
  const at = row.changed_at.toISOString().slice(0, 19).replace('T', ' ');
  return `${row.target}: ${state}, since ${at} UTC by ${row.changed_by ?? 'unknown'}`;
}

type Command = { list: true } | { list: false; target: string; off: boolean; by: string };

/** The command the arguments ask for, or the exit code of a usage error (nothing is changed then). */
function parse(args: string[]): Command | number {
  let positionals: string[];
  let values: { by?: string | undefined; help?: boolean | undefined };
  try {
    ({ positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { by: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 1 && positionals[0] === 'list') return { list: true };
  const [given = '', state = '', ...rest] = positionals;
  if (rest.length > 0 || state === '') return usageError('expected a target and off or on');
  const target = parseKillSwitchTarget(given);
  if (target === undefined) return usageError(`not a kill switch target: ${given}`);
  if (state !== 'off' && state !== 'on') return usageError(`not a state: ${state} (off or on)`);
  const by = changedBy(values.by);
  if (by === undefined) return usageError('--by: one line of 1 to 100 characters');
  return { list: false, target, off: STATES[state], by };
}

async function execute(db: Kysely<Database>, command: Command): Promise<void> {
  if (command.list) {
    const rows = await listKillSwitches(db);
    if (rows.length === 0) out('No kill switch has been set: every channel, country and provider is on.');
    for (const row of rows) out(describe(row));
    return;
  }
  const row = await setKillSwitch(db, command.target, command.off, command.by);
  out(describe(row));
  out('Every gateway and worker replica applies it within KILL_SWITCH_REFRESH_MS (2 s by default).');
}

/** Runs `ops kill-switch` with its arguments; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const command = parse(args);
  if (typeof command === 'number') return command;
  let config: { DATABASE_URL: string; DATABASE_POOLER: 'none' | 'transaction' };
  try {
    config = parseConfig(
      Type.Object({ DATABASE_URL: PostgresUrl, DATABASE_POOLER: DatabasePooler }),
      readEnvironment(['.env', REPOSITORY_ENV_FILE]),
    );
  } catch (error) {
    exitOnConfigError('ops kill-switch', error);
  }
  const db = createDb({
    url: config.DATABASE_URL,
    pooler: config.DATABASE_POOLER,
    poolSize: 1,
    statementTimeoutMs: 10_000,
    applicationName: 'otp-ops',
  });
  try {
    await execute(db, command);
    return 0;
  } catch (error) {
    process.stderr.write(`ops kill-switch failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}
