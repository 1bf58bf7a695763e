import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { createHookSender } from './hook.sender.ts';
import type { DeliverySender, OutgoingMessage } from './sender.port.ts';

// The operator's service as the hook sender meets it: a real HTTP server that checks each request
// with the Standard Webhooks library, as a receiver would, and answers as each test scripts.
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What `Webhook.verify` returned with our secret: the parsed body, or the error it threw. */
  verified: unknown;
}
type Answer = (response: ServerResponse) => void;

const received: Received[] = [];
let answers: Answer[] = [];
let server: Server;
let url: string;

function headersOf(request: Received): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
}

function answer(status: number, body?: unknown, headers: Record<string, string> = {}): Answer {
  return (response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body === undefined ? '' : JSON.stringify(body));
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Received = { headers: request.headers, body, verified: undefined };
      try {
        entry.verified = new Webhook(secret).verify(body, headersOf(entry));
      } catch (error) {
        entry.verified = error;
      }
      received.push(entry);
      const next = answers.shift() ?? answer(200, {});
      next(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answers = [];
});

const CODE = '482913';
const ADDRESS = 'ada.lovelace@example.com';

function codeMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    channel: 'email',
    to: ADDRESS,
    toMasked: 'a***@example.com',
    challengeId: randomUUID(),
    sendNumber: 1,
    requestId: 'req-1',
    purpose: 'login',
    subject: 'Your sign-in code',
    text: `Your code is ${CODE}`,
    html: `<p>Your code is <b>${CODE}</b></p>`,
    locale: 'en',
    ...overrides,
  };
}

async function failure(sender: DeliverySender, message: OutgoingMessage): Promise<DeliveryError> {
  const error = await sender.send(message).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  const failed = error as DeliveryError;
  // Never the address, the code or the text in what is logged and kept.
  for (const secretPart of [ADDRESS, CODE, message.text]) {
    expect(failed.message).not.toContain(secretPart);
    expect(failed.detail ?? '').not.toContain(secretPart);
    expect(String(failed.stack)).not.toContain(secretPart);
  }
  return failed;
}

describe('the send hook', () => {
  it('posts the message as signed JSON with every field and no other', async () => {
    const sender = createHookSender({ url, secret });
    const message = codeMessage();
    answers.push(answer(200, { id: 'abc' }));

    expect(sender.provider).toBe('hook');
    expect(await sender.send(message)).toEqual({ providerMessageId: 'abc' });

    const [request] = received;
    const id = `${message.challengeId}.1`;
    expect(JSON.parse(String(request?.body))).toStrictEqual({
      id,
      channel: 'email',
      to: ADDRESS,
      purpose: 'login',
      locale: 'en',
      subject: 'Your sign-in code',
      text: `Your code is ${CODE}`,
      html: `<p>Your code is <b>${CODE}</b></p>`,
    });
    expect(request?.verified).toStrictEqual(JSON.parse(String(request?.body)));
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'otp-delivery-hook',
      'webhook-id': id,
      'webhook-timestamp': expect.stringMatching(/^\d+$/),
      'webhook-signature': expect.stringMatching(/^v1,/),
    });
    // Another secret does not verify it: the signature is the secret's.
    expect(() => new Webhook(otherSecret).verify(String(request?.body), headersOf(request as Received))).toThrow();
  });

  it('sends a notice without email-only or unset fields, under the notice id', async () => {
    const sender = createHookSender({ url, secret, provider: 'hook-mail' });
    const notificationId = randomUUID();
    await sender.send({
      channel: 'sms',
      to: '+14155550123',
      toMasked: '+1415*****23',
      notificationId,
      purpose: 'password_changed',
      text: 'Your password was changed',
    });
    expect(sender.provider).toBe('hook-mail');
    expect(JSON.parse(String(received[0]?.body))).toStrictEqual({
      id: `notice.${notificationId}`,
      channel: 'sms',
      to: '+14155550123',
      purpose: 'password_changed',
      locale: null,
      text: 'Your password was changed',
    });
    expect(received[0]?.headers['webhook-id']).toBe(`notice.${notificationId}`);
  });

  it('keeps the id of a send across its retries, and gives the next send another', async () => {
    const sender = createHookSender({ url, secret });
    const first = codeMessage();
    answers.push(answer(503));
    await failure(sender, first);
    // The retry: the answer carries no id, so the hook's id is the one we sent.
    expect(await sender.send(first)).toEqual({ providerMessageId: `${first.challengeId}.1` });
    await sender.send({ ...first, sendNumber: 2 });

    const ids = received.map((request) => request.headers['webhook-id']);
    expect(ids).toEqual([`${first.challengeId}.1`, `${first.challengeId}.1`, `${first.challengeId}.2`]);
    expect(received.map((request) => (JSON.parse(request.body) as { id: string }).id)).toEqual(ids);
    for (const request of received) expect(request.verified).toMatchObject({ id: request.headers['webhook-id'] });
  });

  it('takes a messageId from the answer, and ignores an id it cannot keep', async () => {
    const sender = createHookSender({ url, secret });
    const message = codeMessage();
    answers.push(answer(202, { messageId: 'm-1' }), answer(200, { id: 'x'.repeat(500) }), answer(204));
    expect(await sender.send(message)).toEqual({ providerMessageId: 'm-1' });
    expect(await sender.send(message)).toEqual({ providerMessageId: `${message.challengeId}.1` });
    expect(await sender.send(message)).toEqual({ providerMessageId: `${message.challengeId}.1` });
  });

  it('classifies what the hook answers', async () => {
    const sender = createHookSender({ url, secret });
    answers.push(
      answer(429, { error: `slow down, ${ADDRESS}` }, { 'retry-after': '7' }),
      answer(503, { error: 'down' }),
      answer(500, { id: 'taken-1' }),
      answer(400, { error: `bad address ${ADDRESS}` }),
      answer(401),
      answer(403),
      answer(302, undefined, { location: 'https://elsewhere.example/' }),
    );
    const limited = await failure(sender, codeMessage());
    expect(limited).toMatchObject({ kind: 'rate_limited', code: 'hook_429', retryAfterMs: 7000, notAccepted: true });
    expect(limited.detail).toBe('HTTP 429');
    expect(await failure(sender, codeMessage())).toMatchObject({
      kind: 'temporary',
      code: 'hook_5xx',
      notAccepted: true,
    });
    // A 5xx naming a message id: the hook may have taken it after all.
    expect(await failure(sender, codeMessage())).toMatchObject({ kind: 'temporary', notAccepted: false });
    expect(await failure(sender, codeMessage())).toMatchObject({
      kind: 'permanent',
      code: 'hook_rejected',
      detail: 'HTTP 400',
      notAccepted: true,
    });
    for (const status of [401, 403]) {
      expect(await failure(sender, codeMessage())).toMatchObject({
        kind: 'provider_auth',
        code: 'hook_auth',
        detail: `HTTP ${status}`,
        notAccepted: true,
      });
    }
    // A redirect is not followed: the signed message would go somewhere the operator did not name.
    expect(await failure(sender, codeMessage())).toMatchObject({ kind: 'permanent', code: 'hook_rejected' });
    expect(received).toHaveLength(7);
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const sender = createHookSender({ url, secret });
    answers.push(answer(429, undefined, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }));
    const limited = await failure(sender, codeMessage());
    expect(limited.retryAfterMs).toBeGreaterThan(50_000);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('fails as temporary and not accepted when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const sender = createHookSender({ url: `http://127.0.0.1:${port}/send`, secret });
    expect(await failure(sender, codeMessage())).toMatchObject({
      kind: 'temporary',
      code: 'hook_connection',
      detail: 'ECONNREFUSED',
      notAccepted: true,
    });
  });

  it('fails as temporary, perhaps accepted, when the hook does not answer in time', async () => {
    const sender = createHookSender({ url, secret, timeoutMs: 200 });
    answers.push(() => {
      // Never answers: the request reached the hook, which may act on it.
    });
    expect(await failure(sender, codeMessage())).toMatchObject({
      kind: 'temporary',
      code: 'hook_timeout',
      notAccepted: false,
    });
    expect(received).toHaveLength(1);
  });

  it('fails as temporary, perhaps accepted, when the hook drops the connection', async () => {
    const sender = createHookSender({ url, secret });
    answers.push((response) => response.socket?.destroy());
    expect(await failure(sender, codeMessage())).toMatchObject({
      kind: 'temporary',
      code: 'hook_network',
      notAccepted: false,
    });
  });
});
