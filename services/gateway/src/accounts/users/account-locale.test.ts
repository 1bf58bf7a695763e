import { sql } from '@otp/db';
import { isNoticeJobData, normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { createNoticeSender } from '../../events/notice-sender.ts';
import { inTransaction } from '../../events/record-event.ts';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, type CallOptions, post, uniqueEmail } from '../../testing/gateway.harness.ts';
import { testFactors } from '../../testing/test-factors.ts';

// An account's language (`users.locale`) is that of its last completed sign-in (or of its
// registration), and its security notices are asked in it.
describe("the account's language", () => {
  const factors = testFactors();
  const { gateway } = useTestGateway({ factors: factors.verifier });

  const language = (value: string): CallOptions => ({ headers: { 'accept-language': value } });

  async function localeOf(email: string): Promise<string | null> {
    const row = await gateway.deps.db
      .selectFrom('users')
      .select('locale')
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirstOrThrow();
    return row.locale;
  }

  /** The locale of the notices' jobs of the account, oldest first. */
  async function noticeLocales(userId: string): Promise<string[]> {
    const rows = await gateway.deps.db
      .selectFrom('notifications as n')
      .innerJoin('delivery_outbox as o', 'o.notification_id', 'n.id')
      .select('o.job_data')
      .where('n.user_id', '=', userId)
      .orderBy('n.created_at')
      .execute();
    return rows.map((row) => {
      if (!isNoticeJobData(row.job_data)) throw new Error('not a notice job');
      return row.job_data.locale;
    });
  }

  it('is set at registration from the request', async () => {
    const email = uniqueEmail('register');
    const response = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD }, language('de-CH'));
    expect(response.status).toBe(202);
    expect(await localeOf(email)).toBe('de');
  });

  it("is the challenge's locale after a code sign-in", async () => {
    const email = uniqueEmail('code');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email, locale: 'pt' });
    // The verify request's own header does not count: the code was asked in pt-BR.
    expect((await verify(gateway, id, code, language('de'))).status).toBe(200);
    expect(await localeOf(email)).toBe('pt-BR');
  });

  it("is the request's locale after a password sign-in, and the notices written after it use it", async () => {
    const { email, userId } = await registerUser(gateway, 'password');
    const signedIn = await login(gateway, email, PASSWORD, language('fr-CA, de;q=0.5'));
    expect(signedIn.status).toBe(200);
    expect(await localeOf(email)).toBe('fr');

    const { accessToken } = signedIn.body.tokens as { accessToken: string };
    const changed = await post(
      gateway.app,
      '/v1/me/password',
      { currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` },
      bearer(accessToken),
    );
    expect(changed.status, String(changed.body.code)).toBe(204);
    expect(await noticeLocales(userId)).toEqual(['fr']);

    // The body's locale wins over the header, as for a code request.
    const explicit = await post(
      gateway.app,
      '/v1/auth/login',
      { email, password: `${PASSWORD} 2`, locale: 'pt' },
      language('fr'),
    );
    expect(explicit.status).toBe(200);
    expect(await localeOf(email)).toBe('pt-BR');
  });

  it("is already the new sign-in's when that sign-in's own new-device notice is written", async () => {
    const { email, userId } = await registerUser(gateway, 'device');
    const from = (agent: string, accept: string): CallOptions => ({
      headers: { 'user-agent': agent, 'accept-language': accept },
    });
    expect((await login(gateway, email, PASSWORD, from('Agent/1', 'fr'))).status).toBe(200);
    expect((await login(gateway, email, PASSWORD, from('Agent/2', 'de'))).status).toBe(200);
    const rows = await gateway.deps.db
      .selectFrom('notifications')
      .select('template')
      .where('user_id', '=', userId)
      .execute();
    expect(rows.map((row) => row.template)).toEqual(['new-sign-in']);
    expect(await noticeLocales(userId)).toEqual(['de']);
  });

  it('is written by sign-ins of one account racing each other without a deadlock: the last to commit wins', async () => {
    const { email } = await registerUser(gateway, 'race');
    const languages = ['de', 'fr', 'pt-BR', 'en', 'de', 'fr', 'pt-BR', 'en'];
    const answers = await Promise.all(languages.map((value) => login(gateway, email, PASSWORD, language(value))));
    expect(answers.map((answer) => answer.status)).toEqual(languages.map(() => 200));
    expect(languages).toContain(await localeOf(email));
  });

  it('is set when the MFA step completes, to the locale of the first step', async () => {
    const { email, userId } = await registerUser(gateway, 'mfa');
    factors.enrol(userId, '246810');
    const first = await login(gateway, email, PASSWORD, language('pt-BR'));
    expect(first.body).toMatchObject({ mfaRequired: true });
    // Not before the sign-in completes: the registration's (the default) still holds.
    expect(await localeOf(email)).toBe('en');

    const second = await post(
      gateway.app,
      '/v1/auth/mfa',
      { mfaToken: first.body.mfaToken, code: '246810' },
      language('de'),
    );
    expect(second.status, String(second.body.code)).toBe(200);
    expect(await localeOf(email)).toBe('pt-BR');
  });

  it('gives notices the closest catalogue locale, or DEFAULT_LOCALE, for a language the catalogue no longer has', async () => {
    const { userId } = await registerUser(gateway, 'gone');
    const notices = createNoticeSender(gateway.deps);
    const notice = { template: 'factor-locked', userId, details: {}, ip: '192.0.2.1', userAgent: null } as const;
    for (const [stored, expected] of [
      ['de-AT', 'de'],
      ['it', 'en'],
      [null, 'en'],
    ] as const) {
      await sql`UPDATE users SET locale = ${stored} WHERE id = ${userId}`.execute(gateway.deps.db);
      await inTransaction(gateway.deps.db, (trx) => notices.write(trx, { ...notice, requestId: `req-${stored}` }));
      expect((await noticeLocales(userId)).at(-1), String(stored)).toBe(expected);
    }
  });
});
