import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver took, checked against the secret as an application's receiver would. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  /** True when the signature verified (standardwebhooks' own check, timestamp tolerance included). */
  verified: boolean;
  type: string;
  eventTimestamp: string;
  data: Record<string, unknown>;
  body: string;
  headers: IncomingHttpHeaders;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  secret: string;
  /** Every request, in arrival order, answered 2xx or not. */
  readonly requests: ReceivedWebhook[];
  /** The events answered 2xx, one per webhook-id (repeats dropped, as a receiver should). */
  events(): ReceivedWebhook[];
  /** The status the next requests get (200 by default), e.g. 503 while "down", 410 to be gone. */
  answerWith(status: number): void;
  /** Stops listening (connections refused) until `start` opens the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Waits until `predicate` holds over the delivered events, or throws after `timeoutMs`. */
  waitFor(predicate: (events: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export function webhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface WebhookReceiverOptions {
  secret?: string;
  path?: string;
  /** Defaults to 127.0.0.1 and a free port; the compose stack's inbox listens on 0.0.0.0:1082. */
  host?: string;
  port?: number;
}

/**
 * A webhook receiver on loopback speaking Standard Webhooks: it verifies each request's
 * signature with the standardwebhooks package and keeps what it got. The system's edge, as an
 * application's endpoint would be. A GET answers the delivered events as JSON (for people and
 * the compose smoke test); every other request is taken as a delivery.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const secret = options.secret ?? webhookSecret();
  const verifier = new Webhook(secret);
  const requests: ReceivedWebhook[] = [];
  let status = 200;
  let port = options.port ?? 0;
  let server: Server | undefined;

  const handler = async (
    request: import('node:http').IncomingMessage,
    response: import('node:http').ServerResponse,
  ) => {
    if (request.method === 'GET') {
      const delivered = events().map(({ id, type, eventTimestamp, verified, data }) => ({
        id,
        type,
        timestamp: eventTimestamp,
        verified,
        data,
      }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(delivered));
      return;
    }
    let body = '';
    for await (const chunk of request) body += chunk;
    const headers = request.headers;
    let verified = false;
    try {
      verifier.verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      });
      verified = true;
    } catch {
      verified = false;
    }
    let parsed: { type?: string; timestamp?: string; data?: Record<string, unknown> } = {};
    try {
      parsed = JSON.parse(body);
    } catch {
      // Kept with empty fields: a test asserting on the type fails and shows the body.
    }
    const answered = verified ? status : 401;
    requests.push({
      id: String(headers['webhook-id']),
      timestamp: String(headers['webhook-timestamp']),
      verified,
      type: parsed.type ?? '',
      eventTimestamp: parsed.timestamp ?? '',
      data: parsed.data ?? {},
      body,
      headers,
      status: answered,
    });
    response.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'no');
  };

  async function start(): Promise<void> {
    server = createServer((request, response) => {
      handler(request, response).catch(() => response.destroy());
    });
    server.listen(port, options.host ?? '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  }
  async function stop(): Promise<void> {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  }
  await start();

  const events = () => {
    const seen = new Set<string>();
    return requests.filter((request) => {
      if (request.status >= 300 || seen.has(request.id)) return false;
      seen.add(request.id);
      return true;
    });
  };
  return {
    get url() {
      return `http://127.0.0.1:${port}${options.path ?? '/webhooks'}`;
    },
    get port() {
      return port;
    },
    secret,
    requests,
    events,
    answerWith(next) {
      status = next;
    },
    stop,
    start,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events())) {
        if (Date.now() > deadline) {
          throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${events().length} events)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return events();
    },
    close: stop,
  };
}
