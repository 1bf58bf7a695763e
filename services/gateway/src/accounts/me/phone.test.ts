import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { deliveredSecret } from '../../testing/delivered-code.ts';
import { verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';

describe('POST /v1/me/phone: phone verification', () => {
  const { gateway } = useTestGateway();

  async function signedIn(label: string) {
    const { email } = await registerUser(gateway, label);
    return (await loginTokens(gateway, email)).accessToken;
  }

  const addPhone = (accessToken: string, phone: string) =>
    post(gateway.app, '/v1/me/phone', { phone }, bearer(accessToken));

  it('sends a verify_phone code by SMS; verifying it sets the phone and phoneVerified', async () => {
    const accessToken = await signedIn('phone');
    const requested = await addPhone(accessToken, '+1 415 555 0142');
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ channel: 'sms', to: '+*******0142' });
    const challengeId = String(requested.body.challengeId);
    const secret = await deliveredSecret(gateway, challengeId);
    expect(secret.to).toBe('+14155550142');

    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body).toMatchObject({ phone: null });
    expect((await verify(gateway, challengeId, secret.code)).body).toEqual({ outcome: 'verified', verified: true });
    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body).toMatchObject({
      phone: '+14155550142',
      phoneVerified: true,
    });
  });

  it('refuses a number another account verified, without saying whose', async () => {
    const owner = await signedIn('owner');
    const first = await addPhone(owner, '+14155550143');
    const firstSecret = await deliveredSecret(gateway, String(first.body.challengeId));
    expect((await verify(gateway, String(first.body.challengeId), firstSecret.code)).status).toBe(200);

    const other = await signedIn('other');
    const second = await addPhone(other, '+14155550143');
    const secondSecret = await deliveredSecret(gateway, String(second.body.challengeId));
    const refused = await verify(gateway, String(second.body.challengeId), secondSecret.code);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('phone_taken');
    expect(JSON.stringify(refused.body)).not.toMatch(/@|owner|[0-9a-f]{8}-[0-9a-f]{4}/);
    expect((await get(gateway.app, '/v1/me', bearer(other))).body).toMatchObject({ phone: null, phoneVerified: false });
  });

  it('needs an access token and a valid number', async () => {
    const anonymous = await post(gateway.app, '/v1/me/phone', { phone: '+14155550144' });
    expect(anonymous.status).toBe(401);
    const accessToken = await signedIn('bad-phone');
    const invalid = await addPhone(accessToken, '+1 000');
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('invalid_recipient');
  });

  it('records phone.changed for a new number (replaced or not), without the number, and not for the same one again', async () => {
    const { email, userId } = await registerUser(gateway, 'phone-change');
    const { accessToken } = await loginTokens(gateway, email);
    const prove = async (phone: string) => {
      const requested = await addPhone(accessToken, phone);
      const challengeId = String(requested.body.challengeId);
      const { code } = await deliveredSecret(gateway, challengeId);
      expect((await verify(gateway, challengeId, code)).status).toBe(200);
    };
    const changes = () =>
      gateway.deps.db
        .selectFrom('security_events')
        .select('details')
        .where('user_id', '=', userId)
        .where('type', '=', 'phone.changed')
        .orderBy('id')
        .execute();

    await prove('+14155550171');
    await prove('+14155550172');
    await prove('+14155550172');
    expect((await changes()).map((row) => row.details)).toEqual([{ replaced: false }, { replaced: true }]);
    expect(JSON.stringify(await changes())).not.toMatch(/415555017/);
    // Each change sends its notice; the same number proven again sends none.
    const notices = await gateway.deps.db
      .selectFrom('notifications')
      .select('template')
      .where('user_id', '=', userId)
      .execute();
    expect(notices).toEqual([{ template: 'phone-changed' }, { template: 'phone-changed' }]);
  });
});
