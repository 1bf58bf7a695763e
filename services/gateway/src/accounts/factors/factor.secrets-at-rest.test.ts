import { findFactor } from '@otp/db';
import { testKeyRing, useTestDatabase } from '@otp/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { bearer, post, startTestGateway, type TestGateway } from '../../testing/gateway.harness.ts';

const database = useTestDatabase();
const gateways: TestGateway[] = [];

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
});

describe('factor secrets at rest', () => {
  it('are sealed (AES-256-GCM, key id inside), survive a key rotation and move to the new key on use', async () => {
    const oldRing = testKeyRing('old');
    const first = await startTestGateway(database, { env: { FACTOR_KEYS: oldRing } });
    gateways.push(first);
    const at = pinClock(first);
    const user = await userWithTotp(first, at);
    const sealed = await findFactor(first.deps.db, user.userId, 'totp');
    expect(sealed?.secret_envelope).toMatch(/^v1\.old\./);
    expect(sealed?.secret_envelope).not.toContain(user.secret);
    const rows = await first.deps.db
      .selectFrom('recovery_codes')
      .select('code_hash')
      .where('user_id', '=', user.userId)
      .execute();
    expect(rows).toHaveLength(10);
    // Stored as 32-byte HMACs, never as the codes.
    for (const row of rows) expect(row.code_hash).toHaveLength(32);

    // A new key goes first; the old one still decrypts.
    const rotated = await startTestGateway(database, { env: { FACTOR_KEYS: `${testKeyRing('new')},${oldRing}` } });
    gateways.push(rotated);
    rotated.deps.clock = () => at;
    const code = totpAt(user.secret, at, 0);
    // Access tokens are signed per gateway here: sign in again on the rotated one.
    const login = await post(rotated.app, '/v1/auth/login', {
      email: user.email,
      password: 'correct horse battery staple',
    });
    const mfa = await post(rotated.app, '/v1/auth/mfa', { mfaToken: String(login.body.mfaToken), code });
    expect(mfa.status).toBe(200);
    expect((await findFactor(rotated.deps.db, user.userId, 'totp'))?.secret_envelope).toMatch(/^v1\.new\./);
    const accessToken = (mfa.body.tokens as { accessToken: string }).accessToken;
    const next = await post(
      rotated.app,
      '/v1/me/totp/validate',
      { code: totpAt(user.secret, at, 1) },
      bearer(accessToken),
    );
    expect(next.status).toBe(200);
  });
});
