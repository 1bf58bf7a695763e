import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listDeliveryAttempts } from '@otp/db';
import { createHookSender } from '@otp/delivery';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import { loadCatalogue } from '@otp/messages';
import { extractCode, type TestDatabase } from '@otp/testkit';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from './worker.ts';

// The SMS worker with a send hook as its provider, against a receiver that checks each request
// with the standardwebhooks package, as an operator's would.
const secret = `whsec_${randomBytes(32).toString('base64')}`;
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let receiver: Server;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
const answers: number[] = [];

beforeAll(async () => {
  receiver = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    received.push({ headers: request.headers, body });
    response.writeHead(answers.shift() ?? 200, { 'content-type': 'application/json' }).end('{}');
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const address = receiver.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  bed = await prepareDeliveryTestBed({ channel: 'sms' });
  ({ database, fixture } = bed);
  const sender = createHookSender({ url: `http://127.0.0.1:${address.port}/sms`, secret });
  await bed.startWorker({ sender }, (deps) =>
    startWorker({
      ...deps,
      appName: 'Acme',
      webOtpDomain: 'otp.example.com',
      catalogue: loadCatalogue({ defaultLocale: 'en' }),
    }),
  );
});

afterAll(async () => {
  await bed?.close();
  receiver?.close();
});

describe('the SMS send hook, through the worker', () => {
  it('posts a correctly signed message, with the same id on the retry of the send', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550190' });
    answers.push(503);
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');

    const mine = received.filter(({ body }) => body.includes('+14155550190'));
    expect(mine).toHaveLength(2);
    const verified = mine.map(({ headers, body }) =>
      new Webhook(secret).verify(body, headers as Record<string, string>),
    ) as Array<Record<string, unknown>>;
    const id = `${challenge.id}.${challenge.sendNumber}`;
    for (const [index, message] of verified.entries()) {
      expect(message).toEqual({
        id,
        channel: 'sms',
        to: '+14155550190',
        purpose: 'login',
        locale: 'en',
        text: expect.stringMatching(/\n@otp\.example\.com #\d+$/),
      });
      expect(mine[index]?.headers['webhook-id']).toBe(id);
      expect(extractCode(String(message.text))).toBe(challenge.code);
    }
    // Another secret does not verify it.
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    expect(() => other.verify(mine[0]?.body ?? '', mine[0]?.headers as Record<string, string>)).toThrow();
    expect((await listDeliveryAttempts(database.db, challenge.id)).map((row) => [row.outcome, row.provider])).toEqual([
      ['temporary_failure', 'hook'],
      ['sent', 'hook'],
    ]);
  });
});
