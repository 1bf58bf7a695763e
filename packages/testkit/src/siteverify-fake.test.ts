import { describe, expect, it } from 'vitest';
import { useSiteverifyFake } from './siteverify-fake.ts';

const secret = 'secret-of-the-fake';
const siteverify = useSiteverifyFake({ secret });

async function verify(form: Record<string, string>) {
  const response = await fetch(siteverify().url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// The fake must answer as the providers do, or the gateway's tests against it prove nothing.
describe('siteverify fake', () => {
  it('passes a token it issued once, then refuses it as a duplicate', async () => {
    const token = siteverify().issue();
    const first = await verify({ secret, response: token, remoteip: '203.0.113.9' });
    expect(first).toMatchObject({ status: 200, body: { success: true, 'error-codes': [] } });
    expect(first.body).not.toHaveProperty('score');
    const again = await verify({ secret, response: token });
    expect(again.body).toEqual({ success: false, 'error-codes': ['timeout-or-duplicate'] });
  });

  it('refuses unknown tokens, a wrong or missing secret and a missing token with error-codes', async () => {
    expect((await verify({ secret, response: 'made-up' })).body['error-codes']).toEqual(['invalid-input-response']);
    const token = siteverify().issue();
    expect((await verify({ secret: 'wrong', response: token })).body['error-codes']).toEqual(['invalid-input-secret']);
    expect((await verify({ response: token })).body['error-codes']).toEqual(['missing-input-secret']);
    expect((await verify({ secret })).body['error-codes']).toEqual(['missing-input-response']);
    // Refusals for the request itself leave the token unused.
    expect((await verify({ secret, response: token })).body.success).toBe(true);
  });

  it('answers with the score a token was issued with, as reCAPTCHA v3 does', async () => {
    const token = siteverify().issue({ score: 0.3 });
    expect((await verify({ secret, response: token })).body).toMatchObject({ success: true, score: 0.3 });
  });

  it('records every call: secret, response and remoteip', async () => {
    const token = siteverify().issue();
    await verify({ secret, response: token, remoteip: '2001:db8::7' });
    expect(siteverify().calls.at(-1)).toEqual({ secret, response: token, remoteip: '2001:db8::7' });
  });

  it('answers 500 when told to, and hangs when told to', async () => {
    const fake = siteverify();
    fake.behaviour = 'error';
    try {
      const response = await fetch(fake.url, { method: 'POST', body: new URLSearchParams({ secret, response: 'x' }) });
      expect(response.status).toBe(500);
      await response.body?.cancel();
      fake.behaviour = 'hang';
      const hung = fetch(fake.url, {
        method: 'POST',
        body: new URLSearchParams({ secret, response: fake.issue() }),
        signal: AbortSignal.timeout(200),
      });
      await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      fake.behaviour = 'normal';
    }
  });
});
