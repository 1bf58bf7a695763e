import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { loginTokens, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { deliveryJob } from '../../testing/delivered-code.ts';
import { resend } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, type CallOptions, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

// The locale of each code request: the body's `locale`, else Accept-Language, else (a signed-in
// account's request) the account's, else DEFAULT_LOCALE; matched to the catalogue's closest locale
// (de, fr, pt-BR and the shipped en here), and that locale is what the challenge and its sends record.
describe('the locale a code is asked in', () => {
  const { gateway } = useTestGateway({ env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });

  const language = (value: string): CallOptions => ({ headers: { 'accept-language': value } });

  /** The locale the challenge row, its first send's job and GET /v1/otp/challenges/:id record. */
  async function recorded(challengeId: string, sendNumber = 1) {
    const row = await gateway.deps.db
      .selectFrom('otp_challenges')
      .select('locale')
      .where('id', '=', challengeId)
      .executeTakeFirstOrThrow();
    const job = await deliveryJob(gateway, challengeId, sendNumber);
    const view = await get(gateway.app, `/v1/otp/challenges/${challengeId}`);
    return { row: row.locale, job: job.data.locale, view: view.body.locale };
  }

  async function challenge(body: Record<string, unknown>, options: CallOptions = {}) {
    const response = await post(
      gateway.app,
      '/v1/otp/challenges',
      { channel: 'email', to: uniqueEmail('locale'), ...body },
      options,
    );
    expect(response.status, String(response.body.code)).toBe(202);
    return String(response.body.challengeId);
  }

  it('takes the closest catalogue locale of Accept-Language, recorded on the row, the job and the view', async () => {
    const id = await challenge({}, language('de-CH, en;q=0.5'));
    expect(await recorded(id)).toEqual({ row: 'de', job: 'de', view: 'de' });
  });

  it('follows the q-values, not the order of the header', async () => {
    const id = await challenge({}, language('en;q=0.2, fr;q=0.9'));
    expect((await recorded(id)).row).toBe('fr');
  });

  it('falls back to DEFAULT_LOCALE for a language the catalogue lacks, or no header', async () => {
    expect(await recorded(await challenge({}, language('xx')))).toEqual({ row: 'en', job: 'en', view: 'en' });
    expect((await recorded(await challenge({}))).row).toBe('en');
  });

  it("lets the body's locale win over the header, matched the same way (pt → pt-BR)", async () => {
    const id = await challenge({ locale: 'pt' }, language('de'));
    expect(await recorded(id)).toEqual({ row: 'pt-BR', job: 'pt-BR', view: 'pt-BR' });
  });

  it('ignores a malformed Accept-Language header: no error, the default', async () => {
    for (const header of [';;;,q=abc', '*', 'de;q=abc', '-,', 'a'.repeat(300)]) {
      const id = await challenge({}, language(header));
      expect((await recorded(id)).row, header).toMatch(/^(en|de)$/);
    }
    expect((await recorded(await challenge({}, language(';;;,q=abc')))).row).toBe('en');
  });

  it("keeps the challenge's locale for a resend, whatever the resend's header says", async () => {
    const id = await challenge({}, language('fr'));
    const resent = await resend(gateway, id, language('de'));
    expect(resent.status, String(resent.body.code)).toBe(202);
    expect((await deliveryJob(gateway, id, 2)).data.locale).toBe('fr');
  });

  it('records the locale of the registration and of a password reset request', async () => {
    const email = uniqueEmail('register');
    const registered = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD }, language('de-AT'));
    expect(registered.status).toBe(202);
    expect(await recorded(String(registered.body.challengeId))).toEqual({ row: 'de', job: 'de', view: 'de' });

    const forgot = await post(gateway.app, '/v1/auth/password/forgot', { email, locale: 'fr' }, language('de'));
    expect(forgot.status).toBe(202);
    expect((await recorded(String(forgot.body.challengeId))).job).toBe('fr');
  });

  it("asks a signed-in account's code in the body's or header's locale, else in the account's own", async () => {
    const { email } = await registerUser(gateway, 'me-locale');
    const { accessToken } = await loginTokens(gateway, email);
    await gateway.deps.db
      .updateTable('users')
      .set({ locale: 'fr' })
      .where('email', '=', normalizeEmail(email))
      .execute();

    const auth = bearer(accessToken);
    const phone = await post(gateway.app, '/v1/me/phone', { phone: '+14155550190', locale: 'de' }, auth);
    expect(phone.status, String(phone.body.code)).toBe(202);
    expect((await recorded(String(phone.body.challengeId))).job).toBe('de');

    const byHeader = await post(
      gateway.app,
      '/v1/me/email',
      { email: uniqueEmail('next') },
      {
        headers: { ...auth.headers, 'accept-language': 'pt-PT' },
      },
    );
    expect(byHeader.status, String(byHeader.body.code)).toBe(202);
    expect((await recorded(String(byHeader.body.challengeId))).job).toBe('pt-BR');

    const byAccount = await post(gateway.app, '/v1/me/email', { email: uniqueEmail('next') }, auth);
    expect(byAccount.status, String(byAccount.body.code)).toBe(202);
    expect((await recorded(String(byAccount.body.challengeId))).job).toBe('fr');
  });
});
