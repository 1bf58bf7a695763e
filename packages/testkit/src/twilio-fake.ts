import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { maskPhone } from '@otp/domain';
import { postStatusCallback, type StatusCallback } from './twilio-status-callback.ts';

export interface TwilioFakeOptions {
  accountSid: string;
  authToken: string;
  /** Defaults to 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
  /**
   * Off by default: tests point StatusCallback at made-up public hosts, which must never be
   * called. When on, `statusCallbackDelayMs` (default 300 ms) after accepting a message with a
   * StatusCallback, its `delivered` report is posted there, signed as Twilio signs it.
   */
  sendStatusCallbacks?: boolean;
  statusCallbackDelayMs?: number;
}

/** A message the fake accepted (answered 201). */
export interface FakeSms {
  sid: string;
  /** The account the request authenticated as. */
  accountSid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  dateCreated: Date;
}

/** A scripted error answer, in Twilio's JSON error shape. */
export interface ScriptedResponse {
  status: number;
  /** Twilio error code; defaults by status (400 → 21211, 429 → 20429, 5xx → 20500...). */
  code?: number;
  /** Sent as the Retry-After header. */
  retryAfterSeconds?: number;
}

export interface TwilioFake {
  /** `http://127.0.0.1:PORT`, for TWILIO_API_BASE_URL. */
  baseUrl: string;
  messages: FakeSms[];
  /** Requests received so far, answered with errors or not. */
  readonly requests: number;
  /** Status reports sent to StatusCallback URLs, in order. */
  readonly callbacks: StatusCallback[];
  respondNext(...responses: ScriptedResponse[]): void;
  waitForMessage(to: string, options?: { timeoutMs?: number }): Promise<FakeSms>;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const DEFAULT_CODES: Record<number, number> = { 400: 21211, 401: 20003, 404: 20404, 429: 20429 };

// Like Twilio's own, some messages name the number: clients must not pass them on verbatim.
function errorMessage(code: number, to: string): string {
  if (code === 21211) return `The 'To' number ${to} is not a valid phone number.`;
  if (code === 21610) return `Attempt to send to unsubscribed recipient ${to}`;
  if (code === 20003) return 'Authenticate';
  if (code === 20429) return 'Too Many Requests';
  return 'Error from the Twilio fake';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, scripted: ScriptedResponse, to = '') {
  const code = scripted.code ?? DEFAULT_CODES[scripted.status] ?? 20500;
  const headers: Record<string, string> =
    scripted.retryAfterSeconds === undefined ? {} : { 'retry-after': String(scripted.retryAfterSeconds) };
  const body = { code, message: errorMessage(code, to), more_info: `https://www.twilio.com/docs/errors/${code}` };
  sendJson(res, scripted.status, { ...body, status: scripted.status }, headers);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function messageResource(sms: FakeSms) {
  const date = sms.dateCreated.toUTCString().replace('GMT', '+0000');
  const uri = `/2010-04-01/Accounts/${sms.accountSid}/Messages/${sms.sid}.json`;
  return {
    sid: sms.sid,
    account_sid: sms.accountSid,
    api_version: '2010-04-01',
    body: sms.body,
    date_created: date,
    date_updated: date,
    date_sent: null,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: sms.from,
    messaging_service_sid: sms.messagingServiceSid,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    status: 'queued',
    subresource_uris: { media: uri.replace('.json', '/Media.json') },
    to: sms.to,
    uri,
  };
}

/**
 * An HTTP server shaped like Twilio's Messages API (`POST /2010-04-01/Accounts/{Sid}/Messages.json`):
 * Basic auth, form-encoded bodies, Twilio's resource and error JSON. The real twilio SDK talks to
 * it through an httpClient that swaps the origin. Scriptable with `respondNext`.
 */
export async function startTwilioFake(options: TwilioFakeOptions): Promise<TwilioFake> {
  const messages: FakeSms[] = [];
  const scripted: ScriptedResponse[] = [];
  const arrivals = new EventEmitter();
  const callbacks: StatusCallback[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  let requests = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests += 1;
    const pathname = new URL(req.url ?? '/', 'http://fake').pathname;
    // Read-only views for people and scripts (the compose stack's SMS inbox, `pnpm demo`).
    if (req.method === 'GET' && pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && pathname === '/messages') return sendJson(res, 200, messages.map(messageResource));
    const path = MESSAGES_PATH.exec(pathname);
    if (req.method !== 'POST' || path === null) return sendError(res, { status: 404 });
    if (path[1] !== options.accountSid || req.headers.authorization !== expectedAuth) {
      return sendError(res, { status: 401 });
    }
    const form = await readForm(req);
    const to = form.get('To') ?? '';
    const next = scripted.shift();
    if (next !== undefined) return sendError(res, next, to);
    if (to === '') return sendError(res, { status: 400, code: 21604 });
    if (form.get('From') === null && form.get('MessagingServiceSid') === null) {
      return sendError(res, { status: 400, code: 21603 });
    }
    if (form.get('Body') === null) return sendError(res, { status: 400, code: 21602 });
    const sms: FakeSms = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      accountSid: options.accountSid,
      to,
      from: form.get('From'),
      messagingServiceSid: form.get('MessagingServiceSid'),
      body: form.get('Body') ?? '',
      statusCallback: form.get('StatusCallback'),
      dateCreated: new Date(),
    };
    messages.push(sms);
    arrivals.emit('message');
    sendJson(res, 201, messageResource(sms));
    const callbackUrl = sms.statusCallback;
    if (options.sendStatusCallbacks === true && callbackUrl !== null) {
      setTimeout(async () => {
        const report = {
          accountSid: options.accountSid,
          sid: sms.sid,
          to: sms.to,
          from: sms.from,
          status: 'delivered',
        };
        const httpStatus = await postStatusCallback(callbackUrl, options.authToken, report);
        callbacks.push({ sid: sms.sid, status: 'delivered', httpStatus });
      }, options.statusCallbackDelayMs ?? 300).unref();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 500, { code: 20500, message: 'fake failed', status: 500 }));
  });
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    messages,
    get requests() {
      return requests;
    },
    callbacks,
    respondNext(...responses) {
      scripted.push(...responses);
    },
    async waitForMessage(to, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 10_000;
      const find = () => messages.find((sms) => sms.to === to);
      const found = find();
      if (found !== undefined) return found;
      return new Promise<FakeSms>((resolve, reject) => {
        const onMessage = () => {
          const sms = find();
          if (sms === undefined) return;
          clearTimeout(timer);
          arrivals.off('message', onMessage);
          resolve(sms);
        };
        const timer = setTimeout(() => {
          arrivals.off('message', onMessage);
          reject(new Error(`no SMS for ${maskPhone(to)} within ${timeoutMs} ms`));
        }, timeoutMs);
        arrivals.on('message', onMessage);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
