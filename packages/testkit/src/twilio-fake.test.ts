import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioFake, type TwilioFake } from './twilio-fake.ts';

const accountSid = `AC${'ab'.repeat(16)}`;
const authToken = 'token-of-the-fake';
let fake: TwilioFake;

beforeAll(async () => {
  fake = await startTwilioFake({ accountSid, authToken });
});
afterAll(async () => {
  await fake?.close();
});

async function post(form: Record<string, string>, token = authToken) {
  const response = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${accountSid}:${token}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

// The fake must answer like Twilio, or the SDK tests against it prove nothing.
describe('Twilio fake', () => {
  it('answers 401 in Twilio error shape for wrong credentials', async () => {
    const answer = await post({ To: '+14155550100', From: '+15005550006', Body: 'x' }, 'wrong');
    expect(answer).toMatchObject({ status: 401, body: { code: 20003, status: 401 } });
    expect(answer.body.more_info).toBe('https://www.twilio.com/docs/errors/20003');
  });

  it('creates a queued message resource', async () => {
    const answer = await post({ To: '+14155550100', From: '+15005550006', Body: 'hello' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'queued', to: '+14155550100', from: '+15005550006', body: 'hello' });
    expect(answer.body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.messages.at(-1)?.sid).toBe(answer.body.sid);
  });

  it("lists what it accepted at GET /messages (the compose stack's SMS inbox)", async () => {
    const answer = await post({ To: '+14155550102', From: '+15005550006', Body: 'listed' });
    const listed = (await (await fetch(`${fake.baseUrl}/messages`)).json()) as Array<Record<string, unknown>>;
    expect(listed.at(-1)).toMatchObject({ sid: answer.body.sid, to: '+14155550102', body: 'listed' });
    expect((await fetch(`${fake.baseUrl}/health`)).status).toBe(200);
  });

  it('plays scripted errors in order, with Retry-After, then answers normally', async () => {
    fake.respondNext({ status: 429, retryAfterSeconds: 2 }, { status: 400, code: 21610 });
    const first = await post({ To: '+14155550101', From: '+15005550006', Body: 'x' });
    const second = await post({ To: '+14155550101', From: '+15005550006', Body: 'x' });
    const third = await post({ To: '+14155550101', From: '+15005550006', Body: 'x' });
    expect(first).toMatchObject({ status: 429, body: { code: 20429 } });
    expect(first.headers.get('retry-after')).toBe('2');
    expect(second).toMatchObject({ status: 400, body: { code: 21610 } });
    expect(third.status).toBe(201);
  });

  it('requires a sender', async () => {
    expect(await post({ To: '+14155550102', Body: 'x' })).toMatchObject({ status: 400, body: { code: 21603 } });
  });
});
