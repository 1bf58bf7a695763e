import type { Database, Kysely } from '@otp/db';
import type { EventType } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../deps.ts';
import { recordEvent } from '../events/record-event.ts';
import { requestContext } from '../events/request-context.ts';

/** The admin API's event types (every one but the refusal, which has no caller). */
export type AdminEventType = Exclude<Extract<EventType, `admin.${string}`>, 'admin.unauthorized'>;

/**
 * Records an admin call's event on `db` (the caller's transaction, when its change has one), with
 * who made it: `operator` (the key's name) and `actor` (X-Operator-Name, or null).
 */
export async function recordAdminEvent(
  db: Kysely<Database>,
  deps: GatewayDeps,
  request: FastifyRequest,
  type: AdminEventType,
  fields: { userId?: string | null; details?: Record<string, unknown> } = {},
): Promise<void> {
  const caller = request.admin;
  // The routes run only after the key check set it; a route registered outside it is a bug.
  if (caller === null) throw new Error(`admin event ${type} recorded without an authenticated caller`);
  await recordEvent(db, requestContext(request, deps), type, {
    userId: fields.userId ?? null,
    details: { operator: caller.operator, actor: caller.actor, ...fields.details },
  });
}
