import { randomBytes } from 'node:crypto';
import { sql } from '@otp/db';
import { useTestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

// The gateway connects as a role that may not touch the users table at all: if requesting a
// code read or wrote it (the way account enumeration starts), the request would fail.
describe('requesting a code does not reveal whether an account exists', () => {
  const role = `otp_no_users_${randomBytes(4).toString('hex')}`;
  // A password, so the role can log in under password auth too (Testcontainers' Postgres).
  const password = randomBytes(12).toString('hex');
  const known = uniqueEmail('known').toLowerCase();

  const database = useTestDatabase();

  beforeAll(async () => {
    await database.db.insertInto('users').values({ email: known, email_verified_at: new Date() }).execute();
    await sql.raw(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`).execute(database.db);
    await sql
      .raw(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON otp_challenges, otp_recipient_windows, delivery_outbox, delivery_attempts, event_outbox TO ${role}`,
      )
      .execute(database.db);
    await sql.raw(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`).execute(database.db);
  });

  afterAll(async () => {
    await sql.raw(`DROP OWNED BY ${role}`).execute(database.db);
    await sql.raw(`DROP ROLE ${role}`).execute(database.db);
  });

  const { gateway } = useTestGateway(() => {
    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    return { env: { DATABASE_URL: url.toString() } };
  }, database);

  it('runs as a role that cannot read users (so the test can fail)', async () => {
    await expect(sql`SELECT count(*) FROM users`.execute(gateway.deps.db)).rejects.toThrow(/permission denied/);
  });

  it('answers a known and an unknown address alike, without touching users', async () => {
    const responses = [];
    for (const to of [known, uniqueEmail('unknown')]) {
      responses.push(await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to }));
    }
    const [forKnown, forUnknown] = responses as [(typeof responses)[0], (typeof responses)[0]];
    expect(forKnown.status).toBe(202);
    expect(forUnknown.status).toBe(forKnown.status);
    expect(Object.keys(forUnknown.body).sort()).toEqual(Object.keys(forKnown.body).sort());
    expect(forUnknown.contentType).toBe(forKnown.contentType);
    for (const response of responses) expect(response.body.to).toMatch(/^[a-z]\*\*\*@example\.com$/);

    // Both went the same way: a challenge and an outbox row each, and no user was created.
    const outbox = await database.db.selectFrom('delivery_outbox').select('challenge_id').execute();
    expect(outbox.map((row) => row.challenge_id).sort()).toEqual(
      [forKnown.body.challengeId, forUnknown.body.challengeId].map(String).sort(),
    );
    const users = await database.db.selectFrom('users').select('email').execute();
    expect(users).toEqual([{ email: known }]);
  });
});
