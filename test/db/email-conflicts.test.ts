import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { findEmailIdentityGroups, insertChallenge, keepEmailIdentity } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeRow } from './challenge-row.ts';

// Accounts that share an address once addresses have one normal form: the migration keeps them
// in their old forms, `pnpm db:migrate` counts them, `pnpm accounts:conflicts` lists them (masked)
// and resolves each address by keeping one account. Run as real processes, as an operator would.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATION = '2026_12_04_0002_email_identity';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(database: TestDatabase, script: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-strip-types', `packages/db/src/${script}`, ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe('pnpm accounts:conflicts', () => {
  let database: TestDatabase;
  let migrated: Run;
  const ids: Record<string, string> = {};

  async function user(name: string, email: string, extra: { password?: boolean; verified?: boolean } = {}) {
    const row = await database.db
      .insertInto('users')
      .values({
        email,
        password_hash: extra.password === true ? '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' : null,
        email_verified_at: extra.verified === true ? new Date('2026-11-02T10:00:00Z') : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids[name] = row.id;
    return row.id;
  }

  const emailOf = async (id: string | undefined) =>
    (await database.db.selectFrom('users').select('email').where('id', '=', String(id)).executeTakeFirst())?.email;
  const count = async (table: 'user_factors' | 'refresh_tokens' | 'otp_challenges', userId: string | undefined) =>
    (await database.db.selectFrom(table).select('id').where('user_id', '=', String(userId)).execute()).length;

  beforeAll(async () => {
    database = await createTestDatabase({ migrateBefore: MIGRATION });
    // As the previous release wrote them: Ada has a password, a factor, a session and signed in;
    // the lower-case account was made by a login code that was never used.
    const ada = await user('adaTyped', 'Ada@example.org', { password: true, verified: true });
    await database.db
      .insertInto('user_factors')
      .values({ user_id: ada, kind: 'totp', secret_envelope: 'sealed', algorithm: 'SHA1', digits: 6, period: 30 })
      .execute();
    await database.db.updateTable('user_factors').set({ enabled_at: new Date() }).where('user_id', '=', ada).execute();
    const tomorrow = new Date(Date.now() + 86_400_000);
    await database.db
      .insertInto('refresh_tokens')
      .values({
        id: randomUUID(),
        user_id: ada,
        family_id: randomUUID(),
        token_hash: randomBytes(32),
        expires_at: tomorrow,
        family_expires_at: tomorrow,
        revoked_at: null,
        replaced_by: null,
      })
      .execute();
    await database.db
      .insertInto('security_events')
      .values({ type: 'sign_in.succeeded', user_id: ada, ip: null, user_agent: null, request_id: null })
      .execute();
    const other = await user('adaNormal', 'ada@example.org');
    await challengeFor(other);
    await user('bobTyped', 'Bob@example.org');
    await user('bobShouting', 'BOB@example.org');
    await user('carol', 'Carol@example.org');

    migrated = await run(database, 'migrate.cli.ts');
    // Written after the migration by a replica still on the previous release (a rolling upgrade).
    await user('eve', 'Eve@example.org');
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function challengeFor(userId: string) {
    await insertChallenge(
      database.db,
      challengeRow({ recipient_hash: randomBytes(32), user_id: userId, code_hashes: [randomBytes(32)] }),
    );
  }

  it('pnpm db:migrate applies the migration and says how many accounts wait', () => {
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain(`migrations applied: ${MIGRATION}`);
    expect(migrated.stdout).toContain(
      'email addresses: 4 account(s) on 2 address(es) wait for `pnpm accounts:conflicts`',
    );
  });

  it('finds the accounts sharing an address, the holder of the normal form first, and an account alone', async () => {
    const groups = await findEmailIdentityGroups(database.db);
    const byEmail = Object.fromEntries(groups.map((group) => [group.email, group.accounts]));
    expect(Object.keys(byEmail).sort()).toEqual(['ada@example.org', 'bob@example.org', 'eve@example.org']);
    expect(byEmail['ada@example.org']?.map((account) => account.id)).toEqual([ids.adaNormal, ids.adaTyped]);
    expect(byEmail['ada@example.org']?.[1]).toMatchObject({
      email: 'Ada@example.org',
      hasPassword: true,
      factors: 1,
      sessions: 1,
      emailVerifiedAt: new Date('2026-11-02T10:00:00Z'),
    });
    expect(byEmail['ada@example.org']?.[1]?.lastSignInAt).toBeInstanceOf(Date);
    expect(byEmail['ada@example.org']?.[0]).toMatchObject({ hasPassword: false, factors: 0, sessions: 0 });
    expect(byEmail['bob@example.org']?.map((account) => account.id)).toEqual([ids.bobTyped, ids.bobShouting]);
    expect(byEmail['eve@example.org']?.map((account) => account.id)).toEqual([ids.eve]);
    expect(await emailOf(ids.carol)).toBe('carol@example.org');
  });

  it('lists them by id with masked addresses, never a whole one', async () => {
    const listed = await run(database, 'email-conflicts.cli.ts');
    expect(listed.code).toBe(0);
    for (const name of ['adaTyped', 'adaNormal', 'bobTyped', 'bobShouting', 'eve']) {
      expect(listed.stdout).toContain(String(ids[name]));
    }
    expect(listed.stdout).toContain('A***@example.org');
    expect(listed.stdout).toContain('B***@example.org');
    for (const whole of [
      'Ada@example.org',
      'ada@example.org',
      'Bob@example.org',
      'BOB@example.org',
      'Eve@example.org',
    ]) {
      expect(listed.stdout + listed.stderr).not.toContain(whole);
    }
  });

  it('deletes nothing without --yes when no one can confirm at a terminal', async () => {
    const refused = await run(database, 'email-conflicts.cli.ts', '--keep', String(ids.adaTyped));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--yes');
    expect(await emailOf(ids.adaNormal)).toBe('ada@example.org');
    expect(await emailOf(ids.adaTyped)).toBe('Ada@example.org');
  });

  it('--keep: deletes the other accounts with what they hold, converts the kept one, and records it', async () => {
    const kept = await run(database, 'email-conflicts.cli.ts', '--keep', String(ids.adaTyped), '--yes');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).not.toContain('ada@example.org');
    expect(await emailOf(ids.adaNormal)).toBeUndefined();
    expect(await count('otp_challenges', ids.adaNormal)).toBe(0);
    expect(await emailOf(ids.adaTyped)).toBe('ada@example.org');
    expect(await count('user_factors', ids.adaTyped)).toBe(1);
    expect(await count('refresh_tokens', ids.adaTyped)).toBe(1);
    const audit = await database.db
      .selectFrom('security_events')
      .select(['user_id', 'details'])
      .where('type', '=', 'user.email_conflict_resolved')
      .execute();
    expect(audit).toEqual([{ user_id: ids.adaTyped, details: { removedUserIds: [ids.adaNormal] } }]);
  });

  it('--keep on an account alone converts it and deletes nothing; an account not listed is refused', async () => {
    expect(await keepEmailIdentity(database.db, String(ids.eve))).toEqual({
      email: 'eve@example.org',
      kept: ids.eve,
      removed: [],
    });
    expect(await emailOf(ids.eve)).toBe('eve@example.org');
    await expect(keepEmailIdentity(database.db, String(ids.carol))).rejects.toThrow(/normal form/);
    const unknown = await run(database, 'email-conflicts.cli.ts', '--keep', randomUUID(), '--yes');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nothing to resolve');
  });

  it('lists nothing once every address is resolved', async () => {
    await keepEmailIdentity(database.db, String(ids.bobShouting));
    expect(await emailOf(ids.bobShouting)).toBe('bob@example.org');
    expect(await emailOf(ids.bobTyped)).toBeUndefined();
    expect(await findEmailIdentityGroups(database.db)).toEqual([]);
    const listed = await run(database, 'email-conflicts.cli.ts');
    expect(listed.stdout).toContain('no two share one');
  });
});
