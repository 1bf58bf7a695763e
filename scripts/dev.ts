// `pnpm dev`: the whole system on one machine where Postgres and Redis already run. Prepares .env
// and the database, applies the migrations, then runs the gateway, the workers and the dashboard together,
// restarting each one when its code changes. `pnpm start` is the same without watching.
// One Ctrl-C stops everything. In a terminal the JSON logs are printed by pino-pretty behind a
// coloured name per service; otherwise the services' JSON lines pass through untouched.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import concurrently, { type Command, Logger } from 'concurrently';
import { prettyFactory } from 'pino-pretty';
import { ensureEnv } from './ensure-env.ts';

const SERVICES = [
  { name: 'gateway', colour: 'cyan' },
  { name: 'email-worker', colour: 'magenta' },
  { name: 'sms-worker', colour: 'yellow' },
  { name: 'webhook-worker', colour: 'blue' },
  { name: 'dashboard', colour: 'green' },
];

const watch = !process.argv.includes('--no-watch');
const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root); // the services resolve .env and DEV_OUTBOX_DIR from the repository root

await ensureEnv(root, process.env.ENV_FILE || undefined);

// The same command the `migrate` image runs.
const migration = spawnSync(process.execPath, ['--experimental-strip-types', 'packages/db/src/migrate.cli.ts'], {
  stdio: 'inherit',
});
if (migration.status !== 0) {
  console.error('dev: migrations failed, not starting the services');
  process.exit(migration.status ?? 1);
}

/** Hands each complete JSON line of a service to pino-pretty; other text passes unchanged. */
class PrettyLogger extends Logger {
  readonly #pretty = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' });

  override logCommandText(text: string, command: Command): void {
    const lines = text.split('\n');
    const tail = lines.pop() ?? ''; // text after the last newline: an unfinished line
    const pretty = lines.map((line) => (line.startsWith('{') ? this.#pretty(line) : `${line}\n`)).join('');
    super.logCommandText(pretty + tail, command);
  }
}

const tty = process.stdout.isTTY === true;
const flags = watch ? '--watch --watch-preserve-output ' : '';
// `node` is the one running this script; `exec` spares a shell process between them.
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const { result } = concurrently(
  SERVICES.map(({ name, colour }) => ({
    name,
    prefixColor: colour,
    command: `exec node ${flags}--experimental-strip-types services/${name}/src/main.ts`,
    env: { PATH },
  })),
  {
    // Not a terminal: no prefixes, so the output stays one JSON object per line (each names its
    // service).
    raw: !tty,
    ...(tty ? { logger: new PrettyLogger({ prefixFormat: 'name' }) } : {}),
    padPrefix: true,
    // Without --watch a service that dies takes the others down, so the failure is not missed.
    killOthersOn: ['failure'],
  },
);

try {
  await result;
} catch {
  process.exitCode = 1;
}
