import { recipientHash } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, PASSWORD } from '../../testing/accounts.ts';
import { deliveredCode, deliveredSecret } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

// One identity per address: however an address is written (case, composed or decomposed
// letters, an IDN domain in Unicode or in ASCII), it is one account, one recipient window and one
// sign-in throttle key. uniqueEmail gives `label.….N@Example.COM`.
describe('one identity per email address', () => {
  const { gateway, database } = useTestGateway({
    env: { OTP_RECIPIENT_LIMIT: '2', SIGN_IN_FAILURES_PER_ACCOUNT: '3' },
  });

  const usersWith = (email: string) =>
    database.db.selectFrom('users').select(['id', 'email']).where('email', '=', email).execute();

  it('codes for Ada@Example.COM and ada@example.com share one window and sign in to one account', async () => {
    const written = uniqueEmail('Ada');
    const lower = written.toLowerCase();

    const first = await requestCode(gateway, { channel: 'email', to: written });
    const second = await requestCode(gateway, { channel: 'email', to: lower });
    // OTP_RECIPIENT_LIMIT is 2: a third code, in either form, is over the one window's limit.
    const third = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: written.toUpperCase() });
    expect(third.status).toBe(429);
    expect(third.body.code).toBe('recipient_rate_limited');
    const windows = await database.db
      .selectFrom('otp_recipient_windows')
      .select('recent')
      .where('recipient_hash', '=', recipientHash(gateway.deps.keys.codeHmacKey, 'email', lower))
      .execute();
    expect(windows.map((row) => row.recent.length)).toEqual([2]);

    expect((await deliveredSecret(gateway, first.id)).to).toBe(lower);
    const byWritten = await verify(gateway, first.id, first.code);
    const byLower = await verify(gateway, second.id, second.code);
    expect(byWritten.status).toBe(200);
    expect(byLower.status).toBe(200);
    const userOf = (response: typeof byWritten) => (response.body.user as { id: string }).id;
    expect(userOf(byLower)).toBe(userOf(byWritten));
    expect(await usersWith(lower)).toEqual([{ id: userOf(byWritten), email: lower }]);
  });

  it('accepts an IDN domain, keeps it in ASCII and shows it masked in Unicode', async () => {
    const written = uniqueEmail('idn').replace('Example.COM', 'Bücher.Example');
    const ascii = written.toLowerCase().replace('bücher.example', 'xn--bcher-kva.example');

    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: written });
    expect(requested.status).toBe(202);
    expect(requested.body.to).toBe('i***@bücher.example');
    const id = String(requested.body.challengeId);
    const secret = await deliveredSecret(gateway, id);
    expect(secret.to).toBe(ascii);

    // The same address with its domain already in ASCII is the same recipient and account.
    expect((await verify(gateway, id, secret.code)).status).toBe(200);
    const again = await requestCode(gateway, { channel: 'email', to: ascii.toUpperCase() });
    expect((await verify(gateway, again.id, again.code)).status).toBe(200);
    expect(await usersWith(ascii)).toHaveLength(1);
  });

  /** Registers `email` and verifies it with the delivered code (password sign-in needs a verified address). */
  async function registerVerified(email: string) {
    const registered = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD });
    const challengeId = String(registered.body.challengeId);
    expect((await verify(gateway, challengeId, await deliveredCode(gateway, challengeId))).status).toBe(200);
  }

  it('registers Ada@… and signs in as ada@…; a second registration in another case makes no second account', async () => {
    const written = uniqueEmail('Ada');
    const lower = written.toLowerCase();
    await registerVerified(written);
    const [account] = await usersWith(lower);
    expect(account).toBeDefined();

    const signedIn = await login(gateway, lower, PASSWORD, { remoteAddress: '10.12.0.1' });
    expect(signedIn.status).toBe(200);
    expect((signedIn.body.user as { id: string }).id).toBe(account?.id);

    await post(gateway.app, '/v1/auth/register', { email: lower.toUpperCase(), password: PASSWORD });
    expect(await usersWith(lower)).toEqual([account]);
  });

  it('registers an address with an IDN domain, and signs in with either form of the domain', async () => {
    const written = uniqueEmail('Idn').replace('Example.COM', 'Bücher.Example');
    const ascii = written.toLowerCase().replace('bücher.example', 'xn--bcher-kva.example');
    await registerVerified(written);
    expect(await usersWith(ascii)).toHaveLength(1);
    expect((await login(gateway, ascii, PASSWORD, { remoteAddress: '10.12.0.2' })).status).toBe(200);
    expect((await login(gateway, written.toUpperCase(), PASSWORD, { remoteAddress: '10.12.0.2' })).status).toBe(200);
  });

  it('counts failed sign-ins to Ada@… and ada@… under one key', async () => {
    const written = uniqueEmail('Throttled');
    await registerVerified(written);
    const forms = [written, written.toLowerCase(), written.toUpperCase()];
    for (const [index, form] of forms.entries()) {
      const failed = await login(gateway, form, 'not the password', { remoteAddress: `10.12.1.${index}` });
      expect(failed.status).toBe(401);
    }
    // SIGN_IN_FAILURES_PER_ACCOUNT is 3, reached across the three forms: even the right password waits.
    const throttled = await login(gateway, written.toLowerCase(), PASSWORD, { remoteAddress: '10.12.1.9' });
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('sign_in_throttled');
  });
});
