import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { type Answer, call, tally } from './attacker.ts';

// Part 2 of the attack suite: what a stolen access token can still do, and password guessing that
// tries to outrun the throttle or the hasher. Two gateway processes; a short re-authentication age
// (REAUTH_MAX_AGE_SECONDS=3) so a token can age past it within the test.

const PASSWORD = 'correct horse battery staple';
const REAUTH_SECONDS = 3;

describe('stolen tokens and password floods', () => {
  let system: RunningSystem;
  let gateways: [string, string];

  beforeAll(async () => {
    system = await startSystem(
      { TRUST_PROXY: '127.0.0.1', REAUTH_MAX_AGE_SECONDS: String(REAUTH_SECONDS) },
      {},
      { gateways: 2 },
    );
    gateways = system.baseUrls as [string, string];
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  /** A verified password account: registered, its code read from the SMTP sink and verified. */
  async function account(label: string): Promise<string> {
    const email = `${label}.${Date.now()}@example.com`;
    const before = system.smtp.messages.length;
    const registered = await call(gateways[0], 'POST', '/v1/auth/register', { email, password: PASSWORD });
    const code = extractCode((await system.smtp.waitForMail(email, { after: before, timeoutMs: 20_000 })).text);
    const verified = await call(
      gateways[1],
      'POST',
      `/v1/otp/challenges/${String(registered.body.challengeId)}/verify`,
      {
        code,
      },
    );
    expect(verified.status).toBe(200);
    return email;
  }

  it('cannot change the phone or the factors with a token older than the re-authentication age', async () => {
    const email = await account('stolen');
    const signedIn = await call(gateways[0], 'POST', '/v1/auth/login', { email, password: PASSWORD });
    const stolen = signedIn.body.tokens as { accessToken: string; refreshToken: string };
    // The only way to age a token in real processes is to wait: just past the re-authentication age.
    await new Promise((resolve) => setTimeout(resolve, (REAUTH_SECONDS + 1) * 1000));
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const attempts = {
      phone: await call(gateways[1], 'POST', '/v1/me/phone', { phone: '+14155550142' }, bearer(stolen.accessToken)),
      totp: await call(gateways[0], 'POST', '/v1/me/totp', undefined, bearer(stolen.accessToken)),
      recoveryCodes: await call(
        gateways[1],
        'POST',
        '/v1/me/recovery-codes',
        { code: '123456' },
        bearer(stolen.accessToken),
      ),
    };
    // Refreshing the stolen pair gives a new access token, but not a new proof of the user.
    const refreshed = await call(gateways[0], 'POST', '/v1/auth/refresh', { refreshToken: stolen.refreshToken });
    const fresh = (refreshed.body.tokens as { accessToken: string }).accessToken;
    const afterRefresh = await call(gateways[1], 'POST', '/v1/me/totp', undefined, bearer(fresh));
    const report = Object.fromEntries(
      Object.entries({ ...attempts, totpAfterRefresh: afterRefresh }).map(([name, answer]) => [
        name,
        `${answer.status} ${String(answer.body.code)}`,
      ]),
    );
    console.log(`[attack] stolen token: ${JSON.stringify(report)}`);
    for (const answer of [...Object.values(attempts), afterRefresh]) {
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('reauthentication_required');
    }
    expect(refreshed.status).toBe(200);
    // The owner, signing in again, can.
    const again = await call(gateways[0], 'POST', '/v1/auth/login', { email, password: PASSWORD });
    const owner = (again.body.tokens as { accessToken: string }).accessToken;
    expect((await call(gateways[1], 'POST', '/v1/me/totp', undefined, bearer(owner))).status).toBe(201);
  }, 60_000);

  it('tells the owner by email of a sign-in from a new device and of a replayed refresh token', async () => {
    const email = await account('told');
    const owner = await call(
      gateways[0],
      'POST',
      '/v1/auth/login',
      { email, password: PASSWORD },
      { 'user-agent': 'owner-browser/1.0' },
    );
    expect(owner.status).toBe(200);
    const ownerTokens = owner.body.tokens as { accessToken: string; refreshToken: string };

    // A leaked password, used from another device and network.
    let before = system.smtp.messages.length;
    const thief = await call(
      gateways[1],
      'POST',
      '/v1/auth/login',
      { email, password: PASSWORD },
      { 'user-agent': 'thief-tool/0.1' },
    );
    expect(thief.status).toBe(200);
    const newSignIn = await system.smtp.waitForMail(email, { after: before, timeoutMs: 20_000 });

    // A copy of the owner's refresh token, replayed after the owner's client rotated it.
    expect(
      (await call(gateways[0], 'POST', '/v1/auth/refresh', { refreshToken: ownerTokens.refreshToken })).status,
    ).toBe(200);
    before = system.smtp.messages.length;
    const replay = await call(gateways[1], 'POST', '/v1/auth/refresh', { refreshToken: ownerTokens.refreshToken });
    const revoked = await system.smtp.waitForMail(email, { after: before, timeoutMs: 20_000 });
    const ownerAfter = await call(gateways[0], 'GET', '/v1/me', undefined, {
      authorization: `Bearer ${ownerTokens.accessToken}`,
    });
    console.log(
      `[attack] notices: ${JSON.stringify({ newSignIn: newSignIn.subject, replay: replay.status, revoked: revoked.subject, sessionAfter: ownerAfter.status })}`,
    );
    expect(newSignIn.subject).toMatch(/^New sign-in to your .* account$/);
    expect(newSignIn.text).toContain('thief-tool/0.1');
    expect(replay.status).toBe(401);
    expect(revoked.subject).toMatch(/signed out a session/);
    // The ended session's access tokens stop working at once, not when they expire.
    expect(ownerAfter.status).toBe(401);
    for (const mail of [newSignIn, revoked]) {
      expect(mail.text).not.toContain(PASSWORD);
      expect(mail.text).not.toMatch(/\b\d{6}\b/);
    }
  }, 60_000);

  it('counts every one of 30 parallel wrong passwords, across both gateways, and compares only the limit', async () => {
    const email = await account('burst');
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        call(gateways[index % 2] as string, 'POST', '/v1/auth/login', { email, password: `wrong ${index}` }),
      ),
    );
    const right = await call(gateways[0], 'POST', '/v1/auth/login', { email, password: PASSWORD });
    const failed = await system.database.db
      .selectFrom('security_events as e')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('u.email', '=', email)
      .where('e.type', '=', 'sign_in.failed')
      .executeTakeFirstOrThrow();
    const report = {
      answers: tally(burst),
      wrongPasswordsVerified: Number(failed.count),
      thenRightPassword: right.status,
    };
    console.log(`[attack] password burst: ${JSON.stringify(report)}`);
    // SIGN_IN_FAILURES_PER_ACCOUNT is 10: ten wrong passwords are compared, twenty refused before any hashing.
    expect(report.wrongPasswordsVerified).toBe(10);
    expect(burst.filter((answer) => answer.status === 401)).toHaveLength(10);
    expect(burst.filter((answer) => answer.status === 429)).toHaveLength(20);
    expect(right.status).toBe(429);
  }, 60_000);

  it('keeps code sign-in answering while password sign-ins flood both gateways', async () => {
    const flood: Promise<Answer>[] = [];
    for (let index = 0; index < 200; index++) {
      flood.push(
        call(gateways[index % 2] as string, 'POST', '/v1/auth/login', {
          email: `nobody.${index}@example.com`,
          password: 'guess',
        }),
      );
    }
    // Meanwhile a real user signs in by code through both gateways.
    const email = `flooded.${Date.now()}@example.com`;
    const before = system.smtp.messages.length;
    const requested = await call(gateways[0], 'POST', '/v1/otp/challenges', { channel: 'email', to: email });
    const code = extractCode((await system.smtp.waitForMail(email, { after: before, timeoutMs: 20_000 })).text);
    const verified = await call(
      gateways[1],
      'POST',
      `/v1/otp/challenges/${String(requested.body.challengeId)}/verify`,
      {
        code,
      },
    );
    const answers = await Promise.all(flood);
    const busy = answers.filter((answer) => answer.status === 503);
    console.log(
      `[attack] login flood: ${JSON.stringify({
        flood: tally(answers),
        codeRequest: `${requested.status} in ${Math.round(requested.ms)} ms`,
        codeVerify: `${verified.status} in ${Math.round(verified.ms)} ms`,
      })}`,
    );
    expect([requested.status, verified.status]).toEqual([202, 200]);
    // The bound did its work: 100 logins at each gateway, far past its slots and queue.
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) expect(answer.body.code).toBe('service_unavailable');
    // The flood itself was answered, never with a 500.
    expect(answers.every((answer) => answer.status < 500 || answer.status === 503)).toBe(true);
  }, 120_000);
});
