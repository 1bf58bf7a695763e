import type { AdminApiSettings } from './config.ts';

// The dashboard's side of the gateway's admin API (docs/administration.md): server to server,
// with the dashboard's key. The key lives only in this module's closure: no answer of the
// dashboard carries it, and no log line (errors are logged by message, never with headers).

export interface AdminApiAnswer {
  status: number;
  /** The parsed JSON body, or null (204, or a body that is not JSON). */
  body: unknown;
}

/** The admin API could not be asked: refused connection, DNS, timeout. */
export class AdminApiUnavailable extends Error {
  override readonly name = 'AdminApiUnavailable';
}

export interface AdminCall {
  /** Query parameters; undefined ones are left out. */
  query?: Record<string, string | undefined>;
  /** The signed-in operator, sent as X-Operator-Name into the admin API's audit event. */
  operator: string | null;
}

export interface AdminApiClient {
  call(method: 'GET' | 'POST', path: string, options: AdminCall): Promise<AdminApiAnswer>;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The operator's name as a header value. HTTP header values are bytes, and fetch refuses or
 * mangles characters past Latin-1, so a name outside printable ASCII travels percent-encoded
 * (the audit row shows `Jos%C3%A9` rather than a garbled or refused name). The admin API takes
 * at most 100 characters.
 */
export function operatorHeader(name: string): string {
  const value = PRINTABLE_ASCII.test(name) ? name : encodeURIComponent(name);
  return value.trim().slice(0, 100);
}

export function createAdminApiClient(settings: AdminApiSettings): AdminApiClient {
  const base = settings.url.replace(/\/$/, '');
  return {
    async call(method, path, { query = {}, operator }) {
      const url = new URL(`${base}/admin/v1${path}`);
      for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
      const headers: Record<string, string> = { authorization: `Bearer ${settings.key}`, accept: 'application/json' };
      if (operator !== null && operator.trim() !== '') headers['x-operator-name'] = operatorHeader(operator);
      let response: Response;
      try {
        // A timeout on the whole exchange, body included: a hung admin API must not hold the
        // operator's page (or a dashboard connection) open.
        response = await fetch(url, { method, headers, signal: AbortSignal.timeout(settings.timeoutMs) });
        const text = await response.text();
        return { status: response.status, body: parseJson(text) };
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : causeOf(error);
        throw new AdminApiUnavailable(`admin API ${method} ${path.split('/').slice(0, 2).join('/')}: ${reason}`);
      }
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** undici says `fetch failed` and puts the reason (ECONNREFUSED, ENOTFOUND) in `cause`. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
