import { type Kysely, sql } from 'kysely';
import type { Database, WebhookEndpoint } from './database.ts';

type Db = Kysely<Database>;

/** Every endpoint Postgres has a state for (one that was ever disabled), by id. */
export async function listWebhookEndpointStates(db: Db): Promise<WebhookEndpoint[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();
}

/** The ids of the endpoints disabled now. */
export async function findDisabledWebhookEndpoints(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('webhook_endpoints').select('id').where('disabled_at', 'is not', null).execute();
  return new Set(rows.map((row) => row.id));
}

/**
 * Disables an endpoint (it answered 410 Gone). True when this call disabled it; false when it
 * was disabled already (replicas racing on the same answer report it once).
 */
export async function disableWebhookEndpoint(
  db: Db,
  endpoint: { id: string; origin: string; reason: string; by: string },
): Promise<boolean> {
  const result = await sql<{ id: string }>`
    INSERT INTO webhook_endpoints (id, origin, disabled_at, disabled_reason, changed_by, updated_at)
    VALUES (${endpoint.id}, ${endpoint.origin}, now(), ${endpoint.reason}, ${endpoint.by}, now())
    ON CONFLICT (id) DO UPDATE
      SET origin = EXCLUDED.origin, disabled_at = now(), disabled_reason = EXCLUDED.disabled_reason,
          changed_by = EXCLUDED.changed_by, updated_at = now()
      WHERE webhook_endpoints.disabled_at IS NULL
    RETURNING id`.execute(db);
  return result.rows.length === 1;
}

/** Enables an endpoint again; returns its row, or undefined when Postgres has no state for it. */
export async function enableWebhookEndpoint(db: Db, id: string, by: string): Promise<WebhookEndpoint | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set({ disabled_at: null, disabled_reason: null, changed_by: by, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}
