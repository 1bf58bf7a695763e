// `pnpm dev:deps`: development with Docker and Node.js only. Starts what the services need around
// them (docker-compose.deps.yml: Postgres, Redis, MailDev and the SMS inbox, ports published on
// 127.0.0.1), waits until they are healthy, then prepares .env for `pnpm dev` against them: fresh
// secrets when there is no .env (scripts/ensure-env.ts), DATABASE_URL and REDIS_URL at the
// containers, and, where .env names no provider, MailDev for email, the SMS inbox for SMS and the
// webhook inbox for events. Prints what it changed, never a secret.
//   pnpm dev:deps                 up, then .env
//   pnpm dev:deps down [--volumes]  stop them (and drop their data)
// The *_HOST_PORT variables of docker-compose.deps.yml move the ports; ENV_FILE names another
// file than .env to prepare (the services read the same variable).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { ensureEnv, ensureEnvFile, setVariable } from './ensure-env.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (message: string) => console.log(`dev:deps: ${message}`);
const port = (name: string, fallback: number) => Number(process.env[name] || fallback);

// The SMS inbox's account and the webhook inbox's secret (docker-compose.deps.yml): dev only.
const INBOX_ACCOUNT_SID = 'AC3b6fa4d8bca1c22e2ce93337ee836994';
const INBOX_AUTH_TOKEN = '4f5ab9adb2cda39beb12de52beee2485';
const WEBHOOK_INBOX_SECRET = 'whsec_3kPnjXkyk7Bb3Rv9LWbbf/zO8UEZvWEn1fqPmwuuEy8=';

function compose(...args: string[]): void {
  const run = spawnSync('docker', ['compose', '--file', join(root, 'docker-compose.deps.yml'), ...args], {
    stdio: 'inherit',
  });
  if (run.error !== undefined) {
    console.error(`dev:deps: cannot run docker compose (${run.error.message}); is Docker installed?`);
    process.exit(1);
  }
  if (run.status !== 0) process.exit(run.status ?? 1);
}

/** What .env gets: where the containers listen, and the inboxes as providers where none is set. */
export function dependencySettings(): {
  always: Record<string, string>;
  unlessSet: Record<string, Record<string, string>>;
} {
  const smsInbox = `http://127.0.0.1:${port('SMS_INBOX_HOST_PORT', 1081)}`;
  const webhookInbox = `http://127.0.0.1:${port('WEBHOOK_INBOX_HOST_PORT', 1082)}/webhooks`;
  return {
    always: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port('POSTGRES_HOST_PORT', 5432)}/otp`,
      REDIS_URL: `redis://127.0.0.1:${port('REDIS_HOST_PORT', 6379)}`,
    },
    // Each group is written only when .env has none of its variables: a provider of your own stays.
    unlessSet: {
      email: { SMTP_URL: `smtp://127.0.0.1:${port('MAILDEV_SMTP_HOST_PORT', 1025)}` },
      sms: {
        TWILIO_ACCOUNT_SID: INBOX_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: INBOX_AUTH_TOKEN,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: smsInbox,
      },
      webhooks: {
        WEBHOOK_ENDPOINTS: `'${JSON.stringify([{ url: webhookInbox, secret: WEBHOOK_INBOX_SECRET, events: ['*'] }])}'`,
      },
    },
  };
}

/** Points the env file at the containers; returns the names it set. */
function pointEnvAtDependencies(envPath: string): string[] {
  let text = readFileSync(envPath, 'utf8');
  const present = parseEnv(text);
  const settings = dependencySettings();
  const changed: string[] = [];
  for (const [name, value] of Object.entries(settings.always)) {
    if (present[name] === value) continue;
    text = setVariable(text, name, value);
    changed.push(name);
  }
  for (const group of Object.values(settings.unlessSet)) {
    // `[]` is .env.example's "no endpoints" for WEBHOOK_ENDPOINTS: unset, as far as this goes.
    if (Object.keys(group).some((name) => present[name] && present[name] !== '[]')) continue;
    for (const [name, value] of Object.entries(group)) text = setVariable(text, name, value);
    changed.push(...Object.keys(group));
  }
  if (changed.length > 0) writeFileSync(envPath, text, { mode: 0o600 });
  return changed;
}

if (import.meta.main) {
  const [command = 'up', ...rest] = process.argv.slice(2);
  if (command === 'down') {
    compose('down', ...rest);
  } else if (command === 'up' && rest.length === 0) {
    compose('up', '--detach', '--build', '--wait', '--wait-timeout', '300');
    const envPath = process.env.ENV_FILE || join(root, '.env');
    // .env first (fresh secrets when missing), then where the containers are, then the database
    // (the Postgres image makes it already; ensureEnv finds it there).
    ensureEnvFile(root, envPath);
    const changed = pointEnvAtDependencies(envPath);
    await ensureEnv(root, envPath);
    say(changed.length > 0 ? `set ${changed.join(', ')} in ${envPath}` : `${envPath} already points at them`);
    say(
      `Postgres, Redis, MailDev (http://localhost:${port('MAILDEV_HOST_PORT', 1080)}) and the SMS inbox ` +
        `(http://localhost:${port('SMS_INBOX_HOST_PORT', 1081)}/messages) are up; now run: pnpm dev`,
    );
  } else {
    console.error('usage: pnpm dev:deps [up | down [--volumes]]');
    process.exit(64);
  }
}
