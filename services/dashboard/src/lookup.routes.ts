import { PublicError } from '@otp/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AdminApiAnswer, type AdminApiClient, AdminApiUnavailable, type AdminCall } from './admin-api.client.ts';
import { lookupPage } from './lookup.page.ts';
import { sendProblem } from './problem.ts';

// The Lookup page (docs/operating.md, "The Lookup page"): support's questions ("who holds this
// address?", "did this number get a code?") answered through the gateway's admin API, which
// owns the data, the checks and the audit trail. The dashboard only forwards a closed list of
// calls with its own key and the signed-in operator's name, so a dashboard password opens no more
// than these calls, and every one of them is recorded by the admin API under that name.

export const LOOKUP_PATH = '/lookup';
const API = `${LOOKUP_PATH}/api`;

/** The account actions the page offers; each is a POST of the admin API, audited there. */
export const LOOKUP_ACTIONS = new Set(['disable', 'enable', 'revoke-sessions', 'reset-factors', 'unlock']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR = /^[A-Za-z0-9_-]{1,64}$/;

const invalid = (detail: string) => new PublicError('validation_failed', { detail });

/** One text query parameter, trimmed, or undefined; too long is a 400 before any call. */
function textParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (value.length > 320) throw invalid(`${name} is too long`);
  return value.trim();
}

/** A user id from the path: checked here so that nothing but a UUID reaches the admin API's URL. */
function userId(request: FastifyRequest): string {
  const id = (request.params as { id?: string }).id ?? '';
  if (!UUID.test(id)) throw invalid('the user id is not a UUID');
  return id;
}

/**
 * A browser sends an operator's basic credentials with any request to the dashboard, also one
 * a page on another site makes it send. A change is therefore taken only from the dashboard's
 * own pages: `Sec-Fetch-Site: same-origin` (every current browser sends it), or, from a client
 * without it, an `Origin` naming this host. A request with neither (curl, a script) is refused
 * too: the admin API is where programs make changes, with a key of their own.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    // Both through URL, so that a default port (:80, :443) compares equal to none.
    return new URL(origin).host === new URL(`${request.protocol}://${request.host}`).host;
  } catch {
    return false;
  }
}

/** A browser's own word that the request comes from another site (`Sec-Fetch-Site`). */
function isFromAnotherSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  return site === 'cross-site' || site === 'same-site';
}

/** What the page is told when the admin API answered an error; the admin API's own 400 details are public. */
function mapError(answer: AdminApiAnswer, notFound: string): PublicError {
  const detail = (answer.body as { detail?: unknown } | null)?.detail;
  if (answer.status === 404) return new PublicError('not_found', { detail: notFound });
  if (answer.status === 400) return invalid(typeof detail === 'string' ? detail : 'the admin API refused the query');
  if (answer.status === 401 || answer.status === 403) {
    return new PublicError('upstream_failed', {
      detail: "The admin API refused the dashboard's key: check ADMIN_API_KEY against the gateway's ADMIN_API_KEYS.",
    });
  }
  if (answer.status === 429) {
    return new PublicError('service_unavailable', {
      detail: 'The admin API is limiting calls; try again in a minute.',
    });
  }
  return new PublicError('upstream_failed', { detail: `The admin API failed (HTTP ${answer.status}).` });
}

export function lookupRoutes(client: AdminApiClient) {
  return async function routes(app: FastifyInstance): Promise<void> {
    /** Forwards one call and answers with its JSON, or with a problem the page can show. */
    async function forward(
      request: FastifyRequest,
      reply: FastifyReply,
      call: { method: 'GET' | 'POST'; path: string; query?: AdminCall['query']; notFound?: string },
    ): Promise<FastifyReply> {
      reply.header('cache-control', 'no-store');
      let answer: AdminApiAnswer;
      try {
        answer = await client.call(call.method, call.path, { query: call.query, operator: request.operator });
      } catch (error) {
        if (!(error instanceof AdminApiUnavailable)) throw error;
        request.log.error({ err: { message: error.message } }, 'admin API unavailable');
        return sendProblem(
          reply,
          new PublicError('service_unavailable', { detail: 'The admin API cannot be reached now.' }),
        );
      }
      if (answer.status >= 200 && answer.status < 300) {
        return answer.status === 204 ? reply.code(204).send() : reply.send(answer.body);
      }
      if (answer.status >= 500 || answer.status === 401) {
        request.log.error({ status: answer.status, path: call.path.split('/')[1] }, 'admin API call failed');
      }
      return sendProblem(reply, mapError(answer, call.notFound ?? 'not found'));
    }

    /** Runs a handler, answering the PublicErrors it throws (bad input) as problem+json. */
    const handle =
      (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          // Reads change nothing but each one is an audit row under the operator's name: a page
          // elsewhere (an <img> pointing here) must not write those rows either. A browser says
          // where a request comes from; a client that says nothing (curl) may read.
          if (request.method === 'GET' && isFromAnotherSite(request)) {
            throw new PublicError('cross_site_request', {
              detail: "Lookups are made only from the dashboard's own page.",
            });
          }
          return await handler(request, reply);
        } catch (error) {
          if (error instanceof PublicError) return sendProblem(reply, error);
          throw error;
        }
      };

    app.get(LOOKUP_PATH, async (_request, reply) => lookupPage(reply));

    app.get(
      `${API}/users`,
      handle(async (request, reply) => {
        const q = textParam(request, 'q');
        if (q === undefined) throw invalid('give an email address or a phone number');
        // A phone number is given in E.164 (+ and digits); anything else is taken as an email.
        const query = q.startsWith('+') ? { phone: q } : { email: q };
        return forward(request, reply, { method: 'GET', path: '/users', query });
      }),
    );

    app.get(
      `${API}/users/:id`,
      handle(async (request, reply) =>
        forward(request, reply, { method: 'GET', path: `/users/${userId(request)}`, notFound: 'No such user.' }),
      ),
    );

    app.get(
      `${API}/users/:id/events`,
      handle(async (request, reply) => {
        const cursor = textParam(request, 'cursor');
        if (cursor !== undefined && !CURSOR.test(cursor)) throw invalid('cursor is not one the page was given');
        const query = { userId: userId(request), limit: '50', cursor };
        return forward(request, reply, { method: 'GET', path: '/security-events', query });
      }),
    );

    app.get(
      `${API}/recipients`,
      handle(async (request, reply) => {
        const to = textParam(request, 'to');
        if (to === undefined) throw invalid('give an email address or a phone number');
        return forward(request, reply, { method: 'GET', path: '/recipients', query: { to } });
      }),
    );

    app.post(
      `${API}/users/:id/:action`,
      handle(async (request, reply) => {
        if (!sameOrigin(request)) {
          request.log.warn({ route: request.routeOptions.url }, 'cross-site dashboard action refused');
          throw new PublicError('cross_site_request', {
            detail: "Actions are taken only from the dashboard's own page.",
          });
        }
        const { action = '' } = request.params as { action?: string };
        if (!LOOKUP_ACTIONS.has(action)) return sendProblem(reply, new PublicError('not_found'));
        const path = `/users/${userId(request)}/${action}`;
        return forward(request, reply, { method: 'POST', path, notFound: 'No such user.' });
      }),
    );
  };
}
