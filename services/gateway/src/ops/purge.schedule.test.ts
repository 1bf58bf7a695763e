import { type Database, findChallenge, type Kysely, listHistoryPartitions, sql } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../testing/accounts.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../testing/gateway.harness.ts';

describe('the purge of expired data', () => {
  const { gateway, database } = useTestGateway({
    env: { EXPIRED_RETENTION_SECONDS: '3600', OTP_RECIPIENT_WINDOW_SECONDS: '600' },
  });

  async function requestChallenge(): Promise<string> {
    const response = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('purge') });
    expect(response.status).toBe(202);
    return String(response.body.challengeId);
  }

  it('keeps expired challenges until their whole day is out of retention, and deletes stale windows', async () => {
    const [old, recentlyExpired, live] = [await requestChallenge(), await requestChallenge(), await requestChallenge()];
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '2 hours' WHERE id = ${old}`.execute(database.db);
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '10 minutes' WHERE id = ${recentlyExpired}`.execute(
      database.db,
    );
    // Two of the three recipients' windows were last used long ago.
    await sql`UPDATE otp_recipient_windows SET updated_at = now() - interval '11 minutes'
      WHERE recipient_hash IN (SELECT recipient_hash FROM otp_challenges WHERE id IN (${old}, ${recentlyExpired}))`.execute(
      database.db,
    );

    const outcome = await gateway.deps.purge.runOnce();

    expect(outcome).toEqual({
      partitionsCreated: expect.any(Number),
      challengeDays: 0,
      recipientWindows: 2,
      refreshTokens: 0,
      sessions: 0,
      mfaTokens: 0,
      unverifiedAccounts: 0,
      notifications: 0,
      smsCounters: 0,
      securityEventWeeks: 0,
      legacySecurityEvents: 0,
      webhookEvents: 0,
    });
    // Retention drops whole days of challenges (history-partitions.test.ts): today's day has not
    // ended, so the one expired past the retention is kept with the others until it does.
    for (const id of [old, recentlyExpired, live]) expect(await findChallenge(database.db, id)).toBeDefined();
    const outbox = await database.db.selectFrom('delivery_outbox').select('challenge_id').execute();
    expect(outbox.map((row) => row.challenge_id).sort()).toEqual([old, recentlyExpired, live].sort());
    expect((await gateway.app.inject({ url: `/v1/otp/challenges/${old}` })).json().status).toBe('expired');
  });

  it('keeps a stale window while its failure window runs: it holds a count of wrong codes or a lock', async () => {
    const locked = uniqueEmail('purge-locked');
    const accepted = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: locked });
    const window = (id: string) => sql`(SELECT recipient_hash FROM otp_challenges WHERE id = ${id}::uuid)`;
    const [counting, over] = [String(accepted.body.challengeId), await requestChallenge()];
    // No message for eleven minutes on either; one address is locked for half an hour more, the
    // other's failure window has ended.
    await sql`UPDATE otp_recipient_windows SET updated_at = now() - interval '11 minutes', failure_count = 10,
      failure_window_ends_at = now() + interval '30 minutes' WHERE recipient_hash = ${window(counting)}`.execute(
      database.db,
    );
    await sql`UPDATE otp_recipient_windows SET updated_at = now() - interval '11 minutes', failure_count = 3,
      failure_window_ends_at = now() - interval '1 second' WHERE recipient_hash = ${window(over)}`.execute(database.db);

    expect((await gateway.deps.purge.runOnce()).recipientWindows).toBe(1);
    const kept = await sql<{ failure_count: number }>`SELECT failure_count FROM otp_recipient_windows
      WHERE recipient_hash IN (${window(counting)}, ${window(over)})`.execute(database.db);
    expect(kept.rows).toEqual([{ failure_count: 10 }]);
    // The purge did not lift the lock.
    const refused = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: locked });
    expect(refused.body.code).toBe('recipient_locked');
  });

  it('deletes refresh tokens whose lifetime ended before the retention, and keeps live ones', async () => {
    const { email } = await registerUser(gateway, 'purge-tokens');
    const ended = await loginTokens(gateway, email);
    const live = await loginTokens(gateway, email);
    const before = await database.db.selectFrom('refresh_tokens').select('id').execute();
    expect(before).toHaveLength(2);
    await sql`UPDATE refresh_tokens SET expires_at = now() - interval '2 hours'
      WHERE id = (SELECT id FROM refresh_tokens ORDER BY created_at LIMIT 1)`.execute(database.db);

    expect((await gateway.deps.purge.runOnce()).refreshTokens).toBe(1);
    const refreshed = await post(gateway.app, '/v1/auth/refresh', { refreshToken: live.refreshToken });
    expect(refreshed.status).toBe(200);
    expect((await post(gateway.app, '/v1/auth/refresh', { refreshToken: ended.refreshToken })).status).toBe(401);
  });

  it('deletes the audit events from before partitioning one by one once out of retention, until their partition goes', async () => {
    // Backdated rows land in the legacy partition: the table as it was before partitioning.
    await insertEvents(database.db, ['91 days', '89 days', '1 minute']);
    const outcome = await gateway.deps.purge.runOnce();
    expect([outcome.legacySecurityEvents, outcome.securityEventWeeks]).toEqual([1, 0]);
    expect(await eventAges(database.db)).toEqual(['1 minute', '89 days']);
    expect((await gateway.deps.purge.runOnce(new Date(Date.now() + 2 * DAY))).legacySecurityEvents).toBe(1);
    expect(await eventAges(database.db)).toEqual(['1 minute']);
  });

  it('drops a week of audit events once it ended SECURITY_EVENTS_RETENTION_DAYS ago, and keeps it before', async () => {
    // The first week partition after the legacy one (the migration's week), whatever day it is.
    const week = await firstWeek(database.db);
    await insertEventsAt(database.db, { start: week.from + HOUR, middle: week.from + 3 * DAY, end: week.to - 60_000 });

    // 91 days after the legacy partition ended, it goes (empty here); the week is kept.
    expect((await gateway.deps.purge.runOnce(new Date(week.from + 91 * DAY))).securityEventWeeks).toBe(1);
    expect((await gateway.deps.purge.runOnce(new Date(week.to + 89 * DAY))).securityEventWeeks).toBe(0);
    expect(await eventAges(database.db)).toEqual(['end', 'middle', 'start']);
    // Its rows go together once the whole week is out of retention, never one at a time.
    expect((await gateway.deps.purge.runOnce(new Date(week.to + 90 * DAY + 60_000))).securityEventWeeks).toBe(1);
    expect(await eventAges(database.db)).toEqual([]);
  });

  it('deletes relayed webhook events after the retention and unrelayed ones after a week', async () => {
    const rows = [
      { age: '2 hours', status: 'dispatched' },
      { age: '10 minutes', status: 'dispatched' },
      { age: '8 days', status: 'pending' },
      { age: '6 days', status: 'pending' },
    ];
    for (const { age, status } of rows) {
      await sql`INSERT INTO event_outbox (id, type, occurred_at, data, status)
        VALUES (gen_random_uuid(), 'test.purge', now() - ${age}::interval, ${JSON.stringify({ age })}, ${status})`.execute(
        database.db,
      );
    }

    expect((await gateway.deps.purge.runOnce()).webhookEvents).toBe(2);
    const kept = await sql<{ age: string }>`SELECT data->>'age' AS age FROM event_outbox
      WHERE type = 'test.purge' ORDER BY occurred_at`.execute(database.db);
    // A pending event younger than a week waits for its relay, past the challenges' retention.
    expect(kept.rows.map((row) => row.age)).toEqual(['6 days', '10 minutes']);
  });
});

describe('the purge of audit events under a short retention', () => {
  // A one-day retention with a two-day failed sign-in window: the window wins, so the sign-in
  // limit's Postgres fallback still counts every failure it should.
  const { gateway, database } = useTestGateway({
    env: { SECURITY_EVENTS_RETENTION_DAYS: '1', SIGN_IN_FAILURE_WINDOW_SECONDS: '172800' },
  });

  it('never drops events the failed sign-in window still counts', async () => {
    // From before partitioning (the legacy partition): past the day's retention, within the window.
    await insertEvents(database.db, ['3 days', '36 hours', '1 minute']);
    expect((await gateway.deps.purge.runOnce()).legacySecurityEvents).toBe(1);
    expect(await eventAges(database.db)).toEqual(['1 minute', '36 hours']);

    // The partitions: a day of retention has passed since each ended, not the two-day window. The
    // legacy partition ends where the first week starts.
    const week = await firstWeek(database.db);
    await insertEventsAt(database.db, { inWeek: week.from + HOUR });
    expect((await gateway.deps.purge.runOnce(new Date(week.from + 36 * HOUR))).securityEventWeeks).toBe(0);
    expect((await gateway.deps.purge.runOnce(new Date(week.from + 49 * HOUR))).securityEventWeeks).toBe(1);
    expect((await gateway.deps.purge.runOnce(new Date(week.to + 36 * HOUR))).securityEventWeeks).toBe(0);
    expect(await eventAges(database.db)).toContain('inWeek');
    expect((await gateway.deps.purge.runOnce(new Date(week.to + 49 * HOUR))).securityEventWeeks).toBe(1);
    expect(await eventAges(database.db)).not.toContain('inWeek');
  });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The first week partition of security_events after the legacy one (the migration's week). */
async function firstWeek(db: Kysely<Database>): Promise<{ from: number; to: number }> {
  const week = (await listHistoryPartitions(db, 'security_events')).find((partition) => partition.from !== null);
  if (week?.from == null) throw new Error('security_events has no week partition');
  return { from: week.from.getTime(), to: week.to.getTime() };
}

/** Audit rows of a marker type at the given times, named by their keys (kept in their details). */
async function insertEventsAt(db: Kysely<Database>, at: Record<string, number>): Promise<void> {
  for (const [age, time] of Object.entries(at)) {
    await sql`INSERT INTO security_events (type, details, created_at)
      VALUES ('test.purge', ${JSON.stringify({ age })}, ${new Date(time)})`.execute(db);
  }
}

/** Audit rows of a marker type, backdated by each interval (kept in their details). */
async function insertEvents(db: Kysely<Database>, ages: string[]): Promise<void> {
  for (const age of ages) {
    await sql`INSERT INTO security_events (type, details, created_at)
      VALUES ('test.purge', ${JSON.stringify({ age })}, now() - ${age}::interval)`.execute(db);
  }
}

async function eventAges(db: Kysely<Database>): Promise<string[]> {
  const rows = await sql<{ age: string }>`SELECT details->>'age' AS age
    FROM security_events WHERE type = 'test.purge' ORDER BY created_at DESC`.execute(db);
  return rows.rows.map((row) => row.age);
}
