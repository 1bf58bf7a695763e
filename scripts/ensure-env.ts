// Prepares a machine for `pnpm dev`: writes .env from .env.example with fresh development secrets
// when there is none, and creates the Postgres database named by DATABASE_URL when it is missing.
// Prints what it did, never a secret. Run alone with `node scripts/ensure-env.ts`.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import pg, { type Client } from 'pg';

const say = (message: string) => console.log(`ensure-env: ${message}`);

/** Fresh secrets for a development .env, in the formats the services' config schemas read. */
function freshSecrets(): Record<string, string> {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    CODE_HMAC_KEY: randomBytes(32).toString('base64'),
    ENVELOPE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    FACTOR_KEYS: `f1:${randomBytes(32).toString('base64')}`,
    DASHBOARD_PASSWORD: randomBytes(18).toString('base64url'),
    // One line: the \n escapes become newlines again when the file is read.
    JWT_PRIVATE_KEY: `"${pem.trim().replaceAll('\n', '\\n')}"`,
  };
}

/**
 * The dashboard's Lookup page on a development machine: a fresh admin API key for the dashboard
 * (ADMIN_API_KEY) and its entry in the gateway's ADMIN_API_KEYS (the key's hash), with the admin
 * listener's URL. All three or none: a key without its entry is refused.
 */
function devAdminAccess(): Record<string, string> {
  const key = `otpa_${randomBytes(32).toString('base64url')}`;
  const hash = createHash('sha256').update(key).digest('base64url');
  return { ADMIN_API_KEYS: `dev-dashboard:${hash}`, ADMIN_API_KEY: key, ADMIN_API_URL: 'http://127.0.0.1:3002' };
}

/**
 * Required settings with no safe production default, and the value a development machine gets
 * (`.env.example` carries the same, with why): SMS to every country's test numbers.
 */
const REQUIRED_DEVELOPMENT_SETTINGS: Record<string, string> = { SMS_ALLOWED_COUNTRIES: '*' };

/** Replaces the value of `name` in an env file's text, or appends the variable when absent. */
export function setVariable(text: string, name: string, value: string): string {
  const line = new RegExp(`^${name}=.*$`, 'm');
  return line.test(text) ? text.replace(line, () => `${name}=${value}`) : `${text.trimEnd()}\n${name}=${value}\n`;
}

function quoteIfNeeded(value: string): string {
  return /[\s#"'\\]/.test(value) ? `'${value}'` : value;
}

/** Writes .env (or `envPath`) from .env.example unless it exists; returns the variables the file now holds. */
export function ensureEnvFile(root: string, envPath = join(root, '.env')): Record<string, string | undefined> {
  if (existsSync(envPath)) {
    // A .env written before a release that added a secret lacks it: fill in only those.
    let text = readFileSync(envPath, 'utf8');
    const present = parseEnv(text);
    // Settings a later release made required get their development value the same way.
    const noAdminAccess = !present.ADMIN_API_KEYS && !present.ADMIN_API_KEY && !present.ADMIN_API_URL;
    const added = Object.entries({
      ...freshSecrets(),
      ...REQUIRED_DEVELOPMENT_SETTINGS,
      ...(noAdminAccess ? devAdminAccess() : {}),
    }).filter(([name]) => !present[name]);
    for (const [name, value] of added) text = setVariable(text, name, value);
    if (added.length > 0) {
      writeFileSync(envPath, text, { mode: 0o600 });
      say(`.env exists; added the missing ${added.map(([name]) => name).join(', ')}`);
    } else {
      say('.env exists, left as it is');
    }
    return parseEnv(text);
  }
  let text = readFileSync(join(root, '.env.example'), 'utf8');
  const secrets = { ...freshSecrets(), ...devAdminAccess() };
  for (const [name, value] of Object.entries(secrets)) text = setVariable(text, name, value);
  // Connection strings already in the environment (e.g. from CI) are kept in the file as well.
  for (const name of ['DATABASE_URL', 'REDIS_URL']) {
    const fromEnvironment = process.env[name];
    if (fromEnvironment) text = setVariable(text, name, quoteIfNeeded(fromEnvironment));
  }
  const header = `# Written by scripts/ensure-env.ts on ${new Date().toISOString()} from .env.example, with fresh\n# development secrets. Never commit it.\n`;
  writeFileSync(envPath, header + text, { flag: 'wx', mode: 0o600 });
  say(`wrote .env from .env.example with fresh ${Object.keys(secrets).join(', ')}`);
  return parseEnv(readFileSync(envPath, 'utf8'));
}

/** Host, port and database of a connection string: what may be printed of it. */
function describe(url: URL): string {
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

async function connectAndRun(url: URL, run: (client: Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/** Creates the database of `databaseUrl` when Postgres answers that it does not exist. */
async function ensureDatabase(url: URL): Promise<void> {
  const name = decodeURIComponent(url.pathname.slice(1));
  try {
    await connectAndRun(url, async () => {});
    say(`database ${describe(url)} is there`);
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: database does not exist
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  await connectAndRun(maintenance, async (client) => {
    try {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    } catch (error) {
      if ((error as { code?: string }).code !== '42P04') throw error; // 42P04: created meanwhile
    }
  });
  say(`created database ${describe(url)}`);
}

/** The whole preparation; exits the process with a readable message when Postgres is unusable. */
export async function ensureEnv(root: string, envPath = join(root, '.env')): Promise<void> {
  const fileVariables = ensureEnvFile(root, envPath);
  const databaseUrl = URL.parse(process.env.DATABASE_URL || fileVariables.DATABASE_URL || '');
  if (databaseUrl === null) {
    console.error('ensure-env: DATABASE_URL (environment or .env) is missing or not a URL');
    process.exit(1);
  }
  try {
    await ensureDatabase(databaseUrl);
  } catch (error) {
    console.error(`ensure-env: cannot prepare the database at ${describe(databaseUrl)}: ${(error as Error).message}`);
    console.error('ensure-env: is Postgres running? Set DATABASE_URL in .env to point at it.');
    process.exit(1);
  }
}

if (import.meta.main) await ensureEnv(process.cwd());
