// `ops webhook-endpoint`: lists the webhook endpoints Postgres holds a state for, and enables one
// that was disabled after it answered 410 Gone. Every webhook-worker replica sees the change
// within its state refresh (2 s). DATABASE_URL from the environment or .env. The endpoint is named
// by its id (ep_..., in the worker's logs and metrics) or by its URL as WEBHOOK_ENDPOINTS has it.
import { parseArgs } from 'node:util';
import {
  createDb,
  type Database,
  enableWebhookEndpoint,
  type Kysely,
  listWebhookEndpointStates,
  type WebhookEndpoint,
} from '@otp/db';
import { DatabasePooler, PostgresUrl, parseConfig, webhookEndpointId } from '@otp/domain';
import { exitOnConfigError, REPOSITORY_ENV_FILE, readEnvironment } from '@otp/runtime';
import Type from 'typebox';
import { changedBy, out, usageError as usage } from './cli.ts';

export const USAGE = `usage: ops webhook-endpoint list                              endpoints disabled now or before
       ops webhook-endpoint enable <id|url> [--by <name>]   send to a disabled endpoint again
  <id|url>: the endpoint's id (ep_..., as logs and metrics name it) or its URL in WEBHOOK_ENDPOINTS
  --by:     who is enabling it, recorded with the change (default: the OS user)
`;

const usageError = (message: string) => usage(USAGE, message);

function describe(row: WebhookEndpoint): string {
  const at = (date: Date) => `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const state =
    row.disabled_at === null
      ? `enabled (since ${at(row.updated_at)} by ${row.changed_by ?? 'unknown'})`
      : `disabled since ${at(row.disabled_at)} (${row.disabled_reason ?? 'no reason'}) by ${row.changed_by ?? 'unknown'}`;
  return `${row.id} ${row.origin}: ${state}`;
}

type Command = { list: true } | { list: false; id: string; by: string };

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
  const [action = '', endpoint = '', ...rest] = positionals;
  if (action !== 'enable' || endpoint === '' || rest.length > 0)
    return usageError('expected list, or enable and an endpoint');
  const id = /^ep_[A-Za-z0-9_-]{16}$/.test(endpoint)
    ? endpoint
    : /^https?:\/\//.test(endpoint)
      ? webhookEndpointId(endpoint)
      : undefined;
  if (id === undefined) return usageError('not an endpoint id (ep_...) or URL');
  const by = changedBy(values.by);
  if (by === undefined) return usageError('--by: one line of 1 to 100 characters');
  return { list: false, id, by };
}

async function execute(db: Kysely<Database>, command: Command): Promise<number> {
  if (command.list) {
    const rows = await listWebhookEndpointStates(db);
    if (rows.length === 0) out('No webhook endpoint has been disabled: every configured one is sent to.');
    for (const row of rows) out(describe(row));
    return 0;
  }
  const row = await enableWebhookEndpoint(db, command.id, command.by);
  if (row === undefined) {
    process.stderr.write(`${command.id}: no such endpoint was ever disabled (ops webhook-endpoint list shows them)\n`);
    return 1;
  }
  out(describe(row));
  out('Every webhook-worker replica sends to it again within 2 s. Its dead letters can be retried from the dashboard.');
  return 0;
}

/** Runs `ops webhook-endpoint` with its arguments; resolves with the exit code. */
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
    exitOnConfigError('ops webhook-endpoint', error);
  }
  const db = createDb({
    url: config.DATABASE_URL,
    pooler: config.DATABASE_POOLER,
    poolSize: 1,
    statementTimeoutMs: 10_000,
    applicationName: 'otp-ops',
  });
  try {
    return await execute(db, command);
  } catch (error) {
    process.stderr.write(`ops webhook-endpoint failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}
