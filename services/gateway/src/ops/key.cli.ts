// `ops admin-key <name>` and `ops api-key <name>`: make a key for the admin API
// (docs/administration.md) or a server key for the verification API (docs/verification-api.md).
// Each prints the key, to hand to whoever calls the API, and its `name:hash` entry for the
// gateway's variable. The key is shown once and stored nowhere: the gateway keeps only its hash.
import { parseArgs } from 'node:util';
import { generateAdminKey, generateServerKey } from '../http/bearer-keys.ts';
import { usageError } from './cli.ts';

interface KeyKind {
  command: string;
  /** What the command makes, for the usage line. */
  makes: string;
  variable: string;
  /** What the name is, for the usage. */
  nameIs: string;
  generate(name: string): { key: string; entry: string };
}

function keyCommand(kind: KeyKind) {
  const USAGE = `usage: ops ${kind.command} <name>   make ${kind.makes}: prints the key and its ${kind.variable} entry
  <name>: ${kind.nameIs}, 1 to 64 of a-z 0-9 . _ -
`;

  /** Runs the command with its arguments; resolves with the exit code. */
  async function run(args: string[]): Promise<number> {
    let positionals: string[];
    let help: boolean | undefined;
    try {
      ({
        positionals,
        values: { help },
      } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } }));
    } catch (error) {
      return usageError(USAGE, (error as Error).message);
    }
    if (help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    const [name = '', ...rest] = positionals;
    if (name === '' || rest.length > 0) return usageError(USAGE, 'expected one name');
    let made: { key: string; entry: string };
    try {
      made = kind.generate(name);
    } catch (error) {
      return usageError(USAGE, (error as Error).message);
    }
    process.stdout.write(
      `key:   ${made.key}\nentry: ${made.entry}\n\n` +
        `Give the key to its holder (it is not shown again) and add the entry to ${kind.variable}\n` +
        '(comma-separated); the gateway reads the keys when it starts.\n',
    );
    return 0;
  }
  return { USAGE, run };
}

export const adminKeyCommand = keyCommand({
  command: 'admin-key',
  makes: 'an admin API key',
  variable: 'ADMIN_API_KEYS',
  nameIs: 'who holds it (recorded as the operator of every call made with it)',
  generate: generateAdminKey,
});

export const serverKeyCommand = keyCommand({
  command: 'api-key',
  makes: 'a server key of the verification API',
  variable: 'API_KEYS',
  nameIs: 'the server that holds it (the aud of its verification tokens; not JWT_AUDIENCE)',
  generate: generateServerKey,
});
