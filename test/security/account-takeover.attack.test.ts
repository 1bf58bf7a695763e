import { sql } from '@otp/db';
import { totpAt } from '@otp/gateway/testing';
import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { type Answer, call, median, tally } from './attacker.ts';

// The attack suite (`pnpm test:security`): an attacker over HTTP against two gateway processes,
// both workers and the edge fakes, with the default limits. Each scenario prints what it saw; the
// numbers are in docs/threat-model.md.

const PASSWORD = 'correct horse battery staple';

describe('account takeover', () => {
  let system: RunningSystem;
  let gateways: string[];

  beforeAll(async () => {
    // The gateways believe X-Forwarded-For from loopback, as from a balancer: the attacker claims a
    // new client address on every request, so the per-IP limits never stop it. A 1 s resend
    // cooldown lets it resend as often as the per-recipient limit allows.
    system = await startSystem({ TRUST_PROXY: '127.0.0.1', OTP_RESEND_COOLDOWN_SECONDS: '1' }, {}, { gateways: 2 });
    gateways = system.baseUrls;
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  /** The code of the next mail to `to` (waits for it). */
  async function mailedCode(to: string, after: number): Promise<string> {
    return extractCode((await system.smtp.waitForMail(to, { after, timeoutMs: 20_000 })).text);
  }

  it('compares at most OTP_RECIPIENT_MAX_FAILURES codes per recipient per window, across challenges, resends and replicas', async () => {
    const victim = `victim.${Date.now()}@example.com`;
    const answers: Answer[] = [];
    const challenges: string[] = [];
    const wrong = () => String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    for (let round = 0; round < 8; round++) {
      const gateway = gateways[round % gateways.length] as string;
      const created = await call(gateway, 'POST', '/v1/otp/challenges', { channel: 'email', to: victim });
      answers.push(created);
      if (created.status === 202) challenges.push(String(created.body.challengeId));
      for (const id of challenges.slice(-2)) {
        answers.push(await call(gateway, 'POST', `/v1/otp/challenges/${id}/resend`));
      }
      // A burst of wrong codes at every challenge so far, through both replicas at once.
      const burst = challenges.flatMap((id, index) =>
        [0, 1, 2].map((n) =>
          call(gateways[(index + n) % gateways.length] as string, 'POST', `/v1/otp/challenges/${id}/verify`, {
            code: wrong(),
          }),
        ),
      );
      answers.push(...(await Promise.all(burst)));
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    // Every wrong code compared is a code.failed event of one of the victim's challenges.
    const failed = await system.database.db
      .selectFrom('security_events')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('type', '=', 'code.failed')
      .where(sql<string>`details->>'challengeId'`, 'in', challenges)
      .executeTakeFirstOrThrow();
    const compared = Number(failed.count);
    const sends = await system.database.db
      .selectFrom('otp_challenges')
      .select((eb) => eb.fn.sum<string>('send_count').as('sends'))
      .where('id', 'in', challenges)
      .executeTakeFirstOrThrow();
    const report = {
      challengesCreated: challenges.length,
      messagesSent: Number(sends.sends),
      verifyRequests: answers.filter((answer) => answer.status !== 202).length,
      wrongCodesCompared: compared,
      // Each comparison tests a guess against the live codes of its challenge (at most two).
      codesTestedAtMost: compared * 2,
      answers: tally(answers),
    };
    console.log(`[attack] code guessing: ${JSON.stringify(report)}`);
    expect(compared).toBeLessThanOrEqual(10);
    expect(compared).toBeGreaterThan(0);
    // Locked now: every further guess, on any challenge through any replica, is refused without a
    // comparison (a challenge whose own attempts ran out still says so), and so is a new challenge.
    const more = await Promise.all(
      challenges.flatMap((id) =>
        gateways.map((gateway) => call(gateway, 'POST', `/v1/otp/challenges/${id}/verify`, { code: wrong() })),
      ),
    );
    expect(more.every((answer) => answer.status === 429)).toBe(true);
    const requestNow = await call(gateways[0] as string, 'POST', '/v1/otp/challenges', {
      channel: 'email',
      to: victim,
    });
    expect(requestNow.status).toBe(429);
    expect(requestNow.body.code).toBe('recipient_locked');
    const after = await system.database.db
      .selectFrom('security_events')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('type', '=', 'code.failed')
      .where(sql<string>`details->>'challengeId'`, 'in', challenges)
      .executeTakeFirstOrThrow();
    expect(Number(after.count)).toBe(compared);
  }, 120_000);

  it('leaves a registrant nothing once the owner signs in: password, phone and TOTP gone, sessions revoked', async () => {
    const [first, second] = gateways as [string, string];
    const victim = `owner.${Date.now()}@example.com`;
    const steps: string[] = [];
    const step = (label: string, answer: Answer) => {
      steps.push(`${label}: ${answer.status}${answer.body.code === undefined ? '' : ` ${String(answer.body.code)}`}`);
      return answer;
    };
    // 1. The attacker registers the victim's address with a password of theirs.
    expect(
      step('attacker registers', await call(first, 'POST', '/v1/auth/register', { email: victim, password: PASSWORD }))
        .status,
    ).toBe(202);
    // 2. ... and cannot sign in with it: the address is not verified.
    expect(
      step('attacker signs in', await call(second, 'POST', '/v1/auth/login', { email: victim, password: PASSWORD }))
        .body.code,
    ).toBe('email_not_verified');
    // 3. An account registered before this release could hold more: a session, a phone, an
    //    authenticator app. Give it all that the way such a registrant could have.
    const user = await system.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', victim)
      .executeTakeFirstOrThrow();
    await system.database.db
      .updateTable('users')
      .set({ email_verified_at: new Date() })
      .where('id', '=', user.id)
      .execute();
    const session = step(
      'legacy registrant signs in',
      await call(first, 'POST', '/v1/auth/login', { email: victim, password: PASSWORD }),
    );
    const tokens = session.body.tokens as { accessToken: string; refreshToken: string };
    const auth = { authorization: `Bearer ${tokens.accessToken}` };
    const enrolled = step('legacy registrant enrols TOTP', await call(first, 'POST', '/v1/me/totp', undefined, auth));
    const secret = String(enrolled.body.secret);
    const beforeNotice = system.smtp.messages.length;
    step(
      'legacy registrant enables TOTP',
      await call(first, 'POST', '/v1/me/totp/verify', { code: totpAt(secret, new Date()) }, auth),
    );
    // The address's inbox is told (a security notice), and that mail comes before the owner's code.
    const notice = await system.smtp.waitForMail(victim, { after: beforeNotice, timeoutMs: 20_000 });
    expect(notice.subject).toMatch(/^A sign-in method was turned on for your .* account$/);
    await system.database.db
      .updateTable('users')
      .set({ phone: '+14155550123', phone_verified_at: new Date(), email_verified_at: null })
      .where('id', '=', user.id)
      .execute();
    // 4. The owner signs in by email code.
    const before = system.smtp.messages.length;
    const challenge = step(
      'owner asks for a code',
      await call(second, 'POST', '/v1/otp/challenges', { channel: 'email', to: victim }),
    );
    const code = await mailedCode(victim, before);
    const owner = step(
      'owner verifies the code',
      await call(first, 'POST', `/v1/otp/challenges/${String(challenge.body.challengeId)}/verify`, { code }),
    );
    expect(owner.status).toBe(200);
    // 5. What the registrant set is gone.
    const afterwards = {
      ownerGotTokensWithoutMfa: 'tokens' in owner.body,
      ownerPhone: (owner.body.user as { phone: string | null }).phone,
      registrantPassword: step(
        'attacker signs in again',
        await call(second, 'POST', '/v1/auth/login', { email: victim, password: PASSWORD }),
      ).status,
      registrantRefresh: step(
        'attacker refreshes',
        await call(second, 'POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken }),
      ).status,
      factorsLeft: (
        await system.database.db.selectFrom('user_factors').select('id').where('user_id', '=', user.id).execute()
      ).length,
    };
    console.log(`[attack] pre-hijack: ${JSON.stringify({ steps, afterwards })}`);
    expect(afterwards).toEqual({
      ownerGotTokensWithoutMfa: true,
      ownerPhone: null,
      registrantPassword: 401,
      registrantRefresh: 401,
      factorsLeft: 0,
    });
  }, 120_000);

  it('answers a registration for a new and for an existing address alike', async () => {
    const rounds = 10;
    const [first] = gateways as [string];
    const stamp = Date.now();
    // Addresses with a verified account (made by code sign-in) and with an unverified one.
    const verified: string[] = [];
    const unverified: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const address = `taken.${stamp}.${i}@example.com`;
      const before = system.smtp.messages.length;
      const created = await call(first, 'POST', '/v1/otp/challenges', { channel: 'email', to: address });
      const code = await mailedCode(address, before);
      expect(
        (await call(first, 'POST', `/v1/otp/challenges/${String(created.body.challengeId)}/verify`, { code })).status,
      ).toBe(200);
      verified.push(address);
      const pending = `pending.${stamp}.${i}@example.com`;
      expect((await call(first, 'POST', '/v1/auth/register', { email: pending, password: PASSWORD })).status).toBe(202);
      unverified.push(pending);
    }
    const kinds = { new: [] as Answer[], unverified: [] as Answer[], verified: [] as Answer[] };
    for (let i = 0; i < rounds; i++) {
      // Interleaved, so load on the machine falls on every kind alike.
      kinds.new.push(
        await call(first, 'POST', '/v1/auth/register', {
          email: `fresh.${stamp}.${i}@example.com`,
          password: PASSWORD,
        }),
      );
      kinds.unverified.push(
        await call(first, 'POST', '/v1/auth/register', { email: unverified[i], password: PASSWORD }),
      );
      kinds.verified.push(await call(first, 'POST', '/v1/auth/register', { email: verified[i], password: PASSWORD }));
    }
    const summary = Object.fromEntries(
      Object.entries(kinds).map(([kind, answers]) => [
        kind,
        {
          statuses: [...new Set(answers.map((answer) => answer.status))],
          keys: [...new Set(answers.map((answer) => Object.keys(answer.body).join(',')))],
          medianMs: Math.round(median(answers.map((answer) => answer.ms)) * 10) / 10,
        },
      ]),
    );
    console.log(`[attack] register answers: ${JSON.stringify(summary)}`);
    for (const answers of Object.values(kinds)) {
      expect(answers.map((answer) => answer.status)).toEqual(Array(rounds).fill(202));
      expect(answers.map((answer) => Object.keys(answer.body))).toEqual(Array(rounds).fill(['challengeId']));
    }
  }, 180_000);
});
