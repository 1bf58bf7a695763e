import { beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../testing/accounts.ts';
import { bad, expectRefusedWithoutWrites } from '../../testing/bad-input.ts';
import { del, pinClock, totpAt, userWithTotp, type WithTotp } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';

let at: Date;
let alice: WithTotp;
let bob: WithTotp;
const { gateway } = useTestGateway();

beforeAll(async () => {
  at = pinClock(gateway);
  alice = await userWithTotp(gateway, at, 'alice');
  bob = await userWithTotp(gateway, at, 'bob');
});

describe('bad input on the factor routes', () => {
  it('refuses malformed bodies and missing tokens with a code, writing nothing', async () => {
    const auth = `Bearer ${alice.accessToken}`;
    const withAuth = { authorization: auth };
    const codeRoutes = ['/v1/me/totp/verify', '/v1/me/totp/validate', '/v1/me/hotp/verify', '/v1/me/recovery-codes'];
    const cases = codeRoutes.flatMap((url) => [
      bad(`${url}: 5 digits`, url, { code: '12345' }, withAuth),
      bad(`${url}: 9 digits`, url, { code: '123456789' }, withAuth),
      bad(`${url}: letters`, url, { code: '12a456' }, withAuth),
      bad(`${url}: a number`, url, { code: 123456 }, withAuth),
      bad(`${url}: missing code`, url, {}, withAuth),
      bad(`${url}: unknown field`, url, { code: '123456', userId: alice.userId }, withAuth),
      bad(`${url}: no token`, url, { code: '123456' }, { code: 'unauthorized', status: 401 }),
      bad(
        `${url}: bad token`,
        url,
        { code: '123456' },
        { code: 'unauthorized', status: 401, authorization: 'Bearer x.y.z' },
      ),
    ]);
    cases.push(
      bad('hotp: short secret', '/v1/me/hotp', { secret: 'GEZDGNBVGY3TQOJQ' }, withAuth),
      bad('hotp: not base32', '/v1/me/hotp', { secret: '01890189018901890189018901890189' }, withAuth),
      bad('hotp: no token', '/v1/me/hotp', {}, { code: 'unauthorized', status: 401 }),
      bad('totp: no token', '/v1/me/totp', {}, { code: 'unauthorized', status: 401 }),
      bad('resync: one code', '/v1/me/hotp/resync', { code: '123456' }, withAuth),
      bad(
        'recovery-codes: a recovery code instead',
        '/v1/me/recovery-codes',
        { recoveryCode: alice.recoveryCodes[0] },
        withAuth,
      ),
      bad('mfa: short recovery code', '/v1/auth/mfa', { mfaToken: 'a'.repeat(43), recoveryCode: 'abc' }),
    );
    await expectRefusedWithoutWrites(gateway, gateway.deps.db, cases);
  });

  it('DELETE refuses a body with both proofs, or none, or without a token', async () => {
    const code = totpAt(alice.secret, at, 0);
    for (const body of [{}, { code, recoveryCode: alice.recoveryCodes[0] }, { code: '12' }]) {
      expect((await del(gateway.app, '/v1/me/totp', body, bearer(alice.accessToken))).body.code).toBe(
        'validation_failed',
      );
    }
    expect((await del(gateway.app, '/v1/me/totp', { code })).body.code).toBe('unauthorized');
    expect((await del(gateway.app, '/v1/me/hotp', { code }, bearer(alice.accessToken))).body.code).toBe(
      'factor_not_found',
    );
  });

  it("never accepts another user's code or recovery code", async () => {
    const aliceCode = totpAt(alice.secret, at, 0);
    // Bob's token with Alice's code: checked against Bob's own factor only.
    const asBob = await post(gateway.app, '/v1/me/totp/validate', { code: aliceCode }, bearer(bob.accessToken));
    if (aliceCode !== totpAt(bob.secret, at, 0)) expect(asBob.body.code).toBe('invalid_factor_code');
    const bobLogin = await login(gateway, bob.email);
    const withAlicesRecovery = await post(gateway.app, '/v1/auth/mfa', {
      mfaToken: String(bobLogin.body.mfaToken),
      recoveryCode: alice.recoveryCodes[0],
    });
    expect(withAlicesRecovery.body.code).toBe('invalid_factor_code');
    // Alice's code and recovery code still work for Alice.
    expect(
      (await post(gateway.app, '/v1/me/totp/validate', { code: aliceCode }, bearer(alice.accessToken))).status,
    ).toBe(200);
    const aliceLogin = await login(gateway, alice.email);
    const ok = await post(gateway.app, '/v1/auth/mfa', {
      mfaToken: String(aliceLogin.body.mfaToken),
      recoveryCode: alice.recoveryCodes[0],
    });
    expect(ok.status).toBe(200);
  });
});
