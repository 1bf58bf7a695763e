import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listSecurityEvents, type SecurityEvent, type SecurityEventFilter } from '@otp/db';
import { PublicError } from '@otp/domain';
import Type, { type Static } from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { problemResponses, Timestamp, Uuid } from '../http/schemas.ts';
import { recordAdminEvent } from './admin.events.ts';
import { ADMIN_SECURITY } from './admin.openapi.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
/** Rows per query of an export: the whole trail is never held in memory. */
const EXPORT_PAGE = 500;

const Filters = {
  userId: Type.Optional(Uuid),
  type: Type.Optional(
    Type.String({ pattern: '^[a-z0-9_.]{1,64}$', description: 'An event type (docs/accounts-and-factors.md)' }),
  ),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded at or after (RFC 3339)' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded before (RFC 3339)' })),
};

const PageQuery = Type.Object(
  {
    ...Filters,
    cursor: Type.Optional(
      Type.String({ maxLength: 64, description: 'nextCursor of the previous page, as it was given (opaque)' }),
    ),
    // A query string is text and the app does not coerce types: the number is checked by pattern.
    limit: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,2}$',
        description: `Events per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`,
      }),
    ),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(Filters, { additionalProperties: false });

const AuditEvent = Type.Object({
  id: Type.String({ description: 'Increasing with the order events were recorded in' }),
  type: Type.String(),
  userId: Type.Union([Uuid, Type.Null()]),
  createdAt: Timestamp,
  ip: Type.Optional(Type.String({ description: 'The client address of the request that recorded it' })),
  details: Type.Object({}, { additionalProperties: true }),
});
type AuditEvent = Static<typeof AuditEvent>;

const Page = Type.Object(
  {
    items: Type.Array(AuditEvent),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor for the next page; null: the last page',
    }),
  },
  { description: 'Events newest first' },
);

// The cursor is the last id of the page, versioned and base64url-wrapped: opaque to clients, so
// the key the pages walk by can change without breaking one.
function encodeCursor(id: string): string {
  return Buffer.from(`v1:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = /^v1:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  if (id === undefined)
    throw new PublicError('validation_failed', { detail: 'querystring.cursor is not a cursor this API gave' });
  return id;
}

function filterOf(query: Static<typeof ExportQuery>): SecurityEventFilter {
  return {
    userId: query.userId,
    type: query.type,
    since: query.since === undefined ? undefined : new Date(query.since),
    until: query.until === undefined ? undefined : new Date(query.until),
  };
}

function present(row: SecurityEvent): AuditEvent {
  return {
    id: String(row.id),
    type: row.type,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    ...(row.ip === null ? {} : { ip: row.ip }),
    details: row.details,
  };
}

/** Every event of the filter, newest first, one query of EXPORT_PAGE rows at a time. */
async function* exportLines(deps: GatewayDeps, filter: SecurityEventFilter): AsyncGenerator<string> {
  let before: string | undefined;
  do {
    const page = await listSecurityEvents(deps.db, filter, before, EXPORT_PAGE);
    yield page.rows.map((row) => `${JSON.stringify(present(row))}\n`).join('');
    before = page.nextBefore;
  } while (before !== undefined);
}

/** The audit trail (`security_events`): pages to read, and an NDJSON export. */
export const adminSecurityEventRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/security-events',
    {
      schema: {
        tags: ['audit'],
        summary: 'A page of the audit trail, newest first',
        security: ADMIN_SECURITY,
        querystring: PageQuery,
        response: { 200: Page, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const { cursor, limit, ...filters } = request.query;
      const size = limit === undefined ? DEFAULT_LIMIT : Number(limit);
      if (size > MAX_LIMIT)
        throw new PublicError('validation_failed', { detail: `querystring.limit must be at most ${MAX_LIMIT}` });
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const page = await listSecurityEvents(deps.db, filterOf(filters), before, size);
      await recordAdminEvent(deps.db, deps, request, 'admin.security_events_read', {
        details: { filters, count: page.rows.length },
      });
      return {
        items: page.rows.map(present),
        nextCursor: page.nextBefore === undefined ? null : encodeCursor(page.nextBefore),
      };
    },
  );

  app.get(
    '/security-events/export',
    {
      schema: {
        tags: ['audit'],
        summary: 'Every event of the filter as NDJSON (one JSON object per line), newest first, streamed',
        security: ADMIN_SECURITY,
        querystring: ExportQuery,
        response: {
          200: {
            description: 'One event per line, shaped as the items of GET /admin/v1/security-events',
            content: { 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request, reply) => {
      const filters = request.query;
      // Recorded before the first row is read: an export cut short still shows in the trail.
      await recordAdminEvent(deps.db, deps, request, 'admin.security_events_exported', { details: { filters } });
      const lines = Readable.from(exportLines(deps, filterOf(filters)));
      // A stream is sent as it is, never through the serializer: the type is the schema's only.
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="security-events.ndjson"')
        .send(lines as unknown as string);
    },
  );
};
