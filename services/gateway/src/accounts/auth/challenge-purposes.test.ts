import { describe, expect, it } from 'vitest';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('what a verified code does, by purpose', () => {
  const { gateway, database } = useTestGateway();
  // Same database, so the same queue prefix: either relay may move the other's rows.
  const { gateway: closed } = useTestGateway(
    () => ({ env: { SIGNUP_ENABLED: 'false', QUEUE_PREFIX: gateway.config.QUEUE_PREFIX } }),
    database,
  );

  const usersWith = (email: string) => database.db.selectFrom('users').selectAll().where('email', '=', email).execute();

  it('sign-up disabled: 403 signup_disabled for a new address, nothing written, the challenge stays usable', async () => {
    const email = uniqueEmail('stranger').toLowerCase();
    const { id, code } = await requestCode(closed, { channel: 'email', to: email });
    const refused = await verify(closed, id, code);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('signup_disabled');
    expect(await usersWith(email)).toEqual([]);
    const row = await database.db
      .selectFrom('otp_challenges')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect(await database.db.selectFrom('refresh_tokens').select('id').execute()).toEqual([]);
  });

  it('sign-up disabled: an existing account still signs in', async () => {
    const email = uniqueEmail('member').toLowerCase();
    await database.db.insertInto('users').values({ email, email_verified_at: null }).execute();
    const { id, code } = await requestCode(closed, { channel: 'email', to: email });
    const verified = await verify(closed, id, code);
    expect(verified.status).toBe(200);
    expect(verified.body.user).toMatchObject({ email, emailVerified: true });
  });

  it('verify_email marks an existing account verified and answers {verified: true}', async () => {
    const email = uniqueEmail('confirm').toLowerCase();
    await database.db.insertInto('users').values({ email, email_verified_at: null }).execute();
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email, purpose: 'verify_email' });
    const verified = await verify(gateway, id, code);
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });
    expect((await usersWith(email))[0]?.email_verified_at).toBeInstanceOf(Date);
  });

  it('verify_email for an address without an account creates nothing', async () => {
    const email = uniqueEmail('nobody').toLowerCase();
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email, purpose: 'verify_email' });
    expect((await verify(gateway, id, code)).body).toEqual({ outcome: 'verified', verified: true });
    expect(await usersWith(email)).toEqual([]);
  });

  it("verify_phone sets the phone of the challenge's account", async () => {
    const user = await database.db
      .insertInto('users')
      .values({ email: uniqueEmail('phone').toLowerCase() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const requested = await post(gateway.app, '/v1/otp/challenges', {
      channel: 'sms',
      to: '+1 415-555-0177',
      purpose: 'verify_phone',
    });
    expect(requested.status).toBe(202);
    const id = String(requested.body.challengeId);
    // POST /v1/me/phone (a later issue) creates these challenges with the account attached.
    await database.db.updateTable('otp_challenges').set({ user_id: user.id }).where('id', '=', id).execute();
    const verified = await verify(gateway, id, await deliveredCode(gateway, id));
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });
    const row = await database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.phone).toBe('+14155550177');
    expect(row.phone_verified_at).toBeInstanceOf(Date);
  });

  it('verify_phone for a number another account holds: 409 phone_taken, nothing changes', async () => {
    await database.db.insertInto('users').values({ phone: '+14155550188', phone_verified_at: new Date() }).execute();
    const other = await database.db
      .insertInto('users')
      .values({ email: uniqueEmail().toLowerCase() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { id, code } = await requestCode(gateway, { channel: 'sms', to: '+14155550188', purpose: 'verify_phone' });
    await database.db.updateTable('otp_challenges').set({ user_id: other.id }).where('id', '=', id).execute();
    const refused = await verify(gateway, id, code);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('phone_taken');
    const row = await database.db
      .selectFrom('users')
      .select('phone')
      .where('id', '=', other.id)
      .executeTakeFirstOrThrow();
    expect(row.phone).toBeNull();
  });

  it('refuses a purpose on the wrong channel with 400 validation_failed', async () => {
    const wrong = await post(gateway.app, '/v1/otp/challenges', {
      channel: 'sms',
      to: '+14155550100',
      purpose: 'verify_email',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('validation_failed');
    const alsoWrong = await post(gateway.app, '/v1/otp/challenges', {
      channel: 'email',
      to: uniqueEmail(),
      purpose: 'verify_phone',
    });
    expect(alsoWrong.body.code).toBe('validation_failed');
  });
});
