// `ops admin-key <name>`: makes a key for the admin API (docs/administration.md). Prints the key,
// to hand to whoever calls the API (the dashboard, a support tool), and its `name:hash` entry for
// ADMIN_API_KEYS. The key is shown once and stored nowhere: the gateway keeps only its hash.
import { parseArgs } from 'node:util';
import { generateAdminKey } from '../admin/admin.keys.ts';
import { usageError as usage } from './cli.ts';

export const USAGE = `usage: ops admin-key <name>   make an admin API key: prints the key and its ADMIN_API_KEYS entry
  <name>: who holds it, 1 to 64 of a-z 0-9 . _ - (recorded as the operator of every call made with it)
`;

const usageError = (message: string) => usage(USAGE, message);

/** Runs `ops admin-key` with its arguments; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  let positionals: string[];
  let help: boolean | undefined;
  try {
    ({
      positionals,
      values: { help },
    } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [name = '', ...rest] = positionals;
  if (name === '' || rest.length > 0) return usageError('expected one name');
  let made: { key: string; entry: string };
  try {
    made = generateAdminKey(name);
  } catch (error) {
    return usageError((error as Error).message);
  }
  process.stdout.write(
    `key:   ${made.key}\nentry: ${made.entry}\n\n` +
      'Give the key to its holder (it is not shown again) and add the entry to ADMIN_API_KEYS\n' +
      '(comma-separated); the gateway reads the keys when it starts.\n',
  );
  return 0;
}
