import { createServer } from 'node:net';
import type { OutgoingMessage } from '@otp/delivery';
import { deliveryFailure as failure } from '@otp/delivery/testing';
import { type SmtpSink, startSmtpSink } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpSender } from './smtp.sender.ts';

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink?.close();
});

const message = (to: string): OutgoingMessage => ({
  channel: 'email',
  to,
  toMasked: 'x***@example.com',
  challengeId: '7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22',
  sendNumber: 1,
  subject: 'Code',
  text: 'Your code is 123456',
  html: '<p>Your code is 123456</p>',
});

// The nodemailer adapter turns real SMTP replies and network errors into delivery failures.
describe('SMTP sender classification', () => {
  it.each([
    [451, 'data', 'temporary'],
    [452, 'rcpt', 'temporary'],
    [550, 'rcpt', 'permanent'],
    [554, 'data', 'permanent'],
  ] as const)('classifies a %i at %s as %s', async (responseCode, stage, kind) => {
    const sender = createSmtpSender({ url: sink.url, from: 'otp@test.local' });
    sink.failNext(1, responseCode, stage);
    const error = await failure(sender.send(message('reply@example.com')));
    await sender.close?.();

    expect(error).toMatchObject({ kind, code: `smtp_${responseCode}` });
    expect(error.message).toBe(`smtp_${responseCode}`);
    expect(error.detail ?? '').not.toContain('reply@example.com');
  });

  it('classifies a refused login (535) as a provider authentication failure', async () => {
    const sender = createSmtpSender({ url: sink.url, from: 'otp@test.local' });
    sink.failNext(1, 535, 'data');
    const error = await failure(sender.send(message('reply@example.com')));
    await sender.close?.();
    expect(error).toMatchObject({ kind: 'provider_auth', code: 'smtp_auth' });
  });

  it('treats a refused connection as temporary', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${port}`, from: 'otp@test.local' });

    const error = await failure(sender.send(message('nobody@example.com')));
    await sender.close?.();
    expect(error).toMatchObject({ kind: 'temporary', code: 'smtp_connection' });
  });
});

// What a provider chain needs to know of a failure: whether the server certainly did not take
// the message (try the next server now) or may have (retry this one later).
describe('SMTP sender: did the server take the message?', () => {
  it.each([
    [452, 'rcpt', true],
    [451, 'data', false],
  ] as const)('a %i at %s: not accepted is %s', async (responseCode, stage, notAccepted) => {
    const sender = createSmtpSender({ url: sink.url, from: 'otp@test.local' });
    sink.failNext(1, responseCode, stage);
    const error = await failure(sender.send(message('taken@example.com')));
    await sender.close?.();
    expect(error).toMatchObject({ kind: 'temporary', code: `smtp_${responseCode}`, notAccepted });
  });

  it('a refused connection: certainly not accepted', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${port}`, from: 'otp@test.local' });
    const error = await failure(sender.send(message('nobody@example.com')));
    await sender.close?.();
    expect(error).toMatchObject({ kind: 'temporary', code: 'smtp_connection', notAccepted: true });
  });

  it('no answer after the whole message was written: unknown, so not "not accepted"', async () => {
    const sender = createSmtpSender({ url: sink.url, from: 'otp@test.local', socketTimeoutMs: 300 });
    const hungBefore = sink.hung;
    sink.hangNext(1);
    const error = await failure(sender.send(message('hang@example.com')));
    await sender.close?.();
    // The sink read the message to its end and never answered.
    expect(sink.hung).toBe(hungBefore + 1);
    expect(error).toMatchObject({ kind: 'temporary', code: 'smtp_connection', notAccepted: false });
  });

  it('is named smtp, or what it is told for a second server of a chain', () => {
    expect(createSmtpSender({ url: sink.url, from: 'otp@test.local' }).provider).toBe('smtp');
    const fallback = createSmtpSender({ url: sink.url, from: 'otp@test.local', provider: 'smtp-fallback' });
    expect(fallback.provider).toBe('smtp-fallback');
  });
});
