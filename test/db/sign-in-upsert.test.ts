import { randomUUID } from 'node:crypto';
import { findUserByEmail, sql, upsertUserWithVerifiedEmailUnlessClaimable } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// An email sign-in's one-statement upsert: it creates or verifies the account, except one
// registered without proof by another challenge, which it leaves exactly as it was for the claim.
describe('the sign-in upsert that leaves a registration to claim alone', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function registered(email: string, registrationChallengeId: string | null): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      INSERT INTO users (email, password_hash, registration_challenge_id)
      VALUES (${email}, 'registrant-hash', ${registrationChallengeId}::uuid) RETURNING id`.execute(database.db);
    return (rows[0] as { id: string }).id;
  }

  it('creates the account of a new address, verified, and says it created it', async () => {
    const upserted = await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'new@example.com', randomUUID());
    expect(upserted?.created).toBe(true);
    expect(upserted?.user.email_verified_at).toBeInstanceOf(Date);
  });

  it('finds a verified account without creating one', async () => {
    const first = await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'known@example.com', randomUUID());
    const again = await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'known@example.com', randomUUID());
    expect(again).toMatchObject({ created: false, user: { id: first?.user.id } });
  });

  it("changes nothing on another challenge's unproven registration, and answers undefined", async () => {
    const id = await registered('taken@example.com', randomUUID());
    expect(await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'taken@example.com', randomUUID())).toBe(
      undefined,
    );
    const user = await findUserByEmail(database.db, 'taken@example.com');
    expect(user).toMatchObject({ id, email_verified_at: null, password_hash: 'registrant-hash' });
  });

  it('changes nothing either on an unproven address with no registration challenge', async () => {
    await registered('bare@example.com', null);
    expect(await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'bare@example.com', randomUUID())).toBe(
      undefined,
    );
    expect((await findUserByEmail(database.db, 'bare@example.com'))?.email_verified_at).toBe(null);
  });

  it("verifies the registration's own challenge's account, keeping what the registrant set", async () => {
    const challengeId = randomUUID();
    const id = await registered('mine@example.com', challengeId);
    const upserted = await upsertUserWithVerifiedEmailUnlessClaimable(database.db, 'mine@example.com', challengeId);
    expect(upserted).toMatchObject({ created: false, user: { id, password_hash: 'registrant-hash' } });
    expect(upserted?.user.email_verified_at).toBeInstanceOf(Date);
  });
});
