import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useFixture } from './fixture.ts';

export interface SiteverifyFakeOptions {
  /** The secret the fake expects; another one is refused with `invalid-input-secret`. */
  secret: string;
  /** Defaults to 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
}

/** One siteverify call as the fake received it, for assertions. */
export interface SiteverifyCall {
  secret: string | null;
  response: string | null;
  remoteip: string | null;
}

/**
 * How the fake answers: `normal` (the protocol), `error` (HTTP 500 with an HTML body, as a
 * failing front end would), `hang` (accepts the request and never answers).
 */
export type SiteverifyBehaviour = 'normal' | 'error' | 'hang';

export interface SiteverifyFake {
  /** The siteverify endpoint, for CAPTCHA_VERIFY_URL. */
  url: string;
  /** Every call received, in order, answered or not. */
  calls: SiteverifyCall[];
  /** How the fake answers from now on (default `normal`). */
  behaviour: SiteverifyBehaviour;
  /**
   * A fresh token, as a widget would hand one to a client: it passes once. `score` is sent back
   * with it, as reCAPTCHA v3 does.
   */
  issue(options?: { score?: number }): string;
  close(): Promise<void>;
}

const PATH = '/siteverify';

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const refused = (res: ServerResponse, ...errorCodes: string[]) =>
  sendJson(res, 200, { success: false, 'error-codes': errorCodes });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An HTTP server speaking the siteverify protocol that Turnstile, hCaptcha and reCAPTCHA share:
 * `POST` a form of `secret`, `response` and `remoteip`, answered with JSON `{success,
 * "error-codes", challenge_ts, hostname, score?}`. Tokens are single use, as with the real
 * providers: a second use fails with `timeout-or-duplicate`, an unknown one with
 * `invalid-input-response`.
 */
export async function startSiteverifyFake(options: SiteverifyFakeOptions): Promise<SiteverifyFake> {
  const calls: SiteverifyCall[] = [];
  /** Tokens issued and not yet used, with the score each answers with. */
  const unused = new Map<string, { score: number | undefined }>();
  const used = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse, answer: SiteverifyBehaviour): Promise<void> {
    if (new URL(req.url ?? '/', 'http://fake').pathname !== PATH) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    const body = await readBody(req);
    const form = new URLSearchParams(
      req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body : '',
    );
    const call = { secret: form.get('secret'), response: form.get('response'), remoteip: form.get('remoteip') };
    calls.push(call);
    if (answer === 'hang') return;
    if (answer === 'error') {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>500 Internal Server Error</h1>');
      return;
    }
    if (call.secret === null || call.secret === '') return refused(res, 'missing-input-secret');
    if (call.secret !== options.secret) return refused(res, 'invalid-input-secret');
    if (call.response === null || call.response === '') return refused(res, 'missing-input-response');
    const issued = unused.get(call.response);
    if (issued === undefined) {
      return refused(res, used.has(call.response) ? 'timeout-or-duplicate' : 'invalid-input-response');
    }
    unused.delete(call.response);
    used.add(call.response);
    sendJson(res, 200, {
      success: true,
      'error-codes': [],
      challenge_ts: new Date().toISOString(),
      hostname: 'localhost',
      ...(issued.score === undefined ? {} : { score: issued.score }),
    });
  }

  let behaviour: SiteverifyBehaviour = 'normal';
  const server = createServer((req, res) => {
    // The behaviour when the call arrives, so a test that switches it afterwards does not change an answer in flight.
    handle(req, res, behaviour).catch(() => sendJson(res, 500, { error: 'fake failed' }));
  });
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${PATH}`,
    calls,
    get behaviour() {
      return behaviour;
    },
    set behaviour(value) {
      behaviour = value;
    },
    issue(issueOptions = {}) {
      const token = `fake-${randomBytes(24).toString('base64url')}`;
      unused.set(token, { score: issueOptions.score });
      return token;
    },
    async close() {
      // Hung requests included.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A siteverify fake for a test file (or a `describe`): started in `beforeAll`, closed in
 * `afterAll`. Read it inside tests, or in a gateway's late options registered after this call.
 */
export function useSiteverifyFake(options: SiteverifyFakeOptions): () => SiteverifyFake {
  return useFixture(
    'useSiteverifyFake()',
    () => startSiteverifyFake(options),
    (fake) => fake.close(),
  );
}
