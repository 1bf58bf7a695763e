import {
  createHistoryPartitions,
  type Database,
  deleteEndedRefreshTokens,
  deleteEndedSessions,
  deleteUnverifiedAccounts,
  dropExpiredHistoryPartitions,
  type Kysely,
  purgeEventOutbox,
  purgeExpiredMfaTokens,
  purgeLegacySecurityEvents,
  purgeOldNotifications,
  purgeRecipientWindows,
  purgeSmsCounters,
} from '@otp/db';
import { EVENT_TYPES } from '@otp/domain';
import type { Logger } from '@otp/runtime';

export interface PurgeScheduleOptions {
  db: Kysely<Database>;
  log: Logger;
  intervalMs: number;
  /** How long a challenge is kept after its expiry (status lookups, delivery records). */
  retentionSeconds: number;
  /**
   * The per-recipient limit's window: a window row with no message for this long counts no
   * message any more (it is kept while it still counts wrong codes or holds a lock).
   */
  recipientWindowSeconds: number;
  /** Accounts whose email was never verified go this long after their latest registration. */
  unverifiedAccountSeconds: number;
  /**
   * How long the audit trail is kept (SECURITY_EVENTS_RETENTION_DAYS, but never less than the
   * failed sign-in window its Postgres fallback counts over).
   */
  securityEventSeconds: number;
  clock?: () => Date;
}

export interface PurgeOutcome {
  /** Partitions of the history tables created ahead (a day of challenges, a week of events). */
  partitionsCreated: number;
  /**
   * Days of challenges dropped (a partition of otp_challenges with its delivery_attempts and
   * delivery_outbox partitions), once the day ended and its last challenge expired before the retention.
   */
  challengeDays: number;
  recipientWindows: number;
  /** Refresh tokens whose idle or absolute lifetime ended before the retention. */
  refreshTokens: number;
  /** Sessions that ended (expired or revoked) over a year ago, with their refresh tokens. */
  sessions: number;
  mfaTokens: number;
  unverifiedAccounts: number;
  /** Security notices created before the retention, with their outbox rows. */
  notifications: number;
  /** SMS counters of windows (hours, days) that ended over a day ago. */
  smsCounters: number;
  /** Weeks of audit events (security_events partitions) that ended before their retention. */
  securityEventWeeks: number;
  /**
   * Audit events from before partitioning (the legacy partition) older than their retention,
   * deleted row by row until that partition goes whole.
   */
  legacySecurityEvents: number;
  /**
   * Webhook events (event_outbox): relayed ones older than the retention, and ones never relayed
   * older than a week.
   */
  webhookEvents: number;
}

export interface PurgeSchedule {
  /**
   * Settles once the partitions ahead were made at start (or that try failed and was logged): a
   * gateway started after days down must not wait PURGE_INTERVAL_MS for the partitions of today.
   */
  ready: Promise<void>;
  /** One run now, or as if the clock read `at` (tests: the retention of partitions is days long). */
  runOnce(at?: Date): Promise<PurgeOutcome>;
  stop(): void;
}

/** How long an ended session is kept (the new-device check's memory is 90 days of use). */
const USER_DELETED_WEBHOOK = EVENT_TYPES['user.deleted'].webhook[0].type;

const SESSION_MEMORY_SECONDS = 365 * 86_400;

/**
 * How many days ahead the history tables' partitions exist: a week of gateways down (or of a
 * maintenance failing) before an insert finds no partition, and the horizon metric falls for days
 * before that (otp_history_partition_horizon_seconds, alert OtpHistoryPartitionsRunningOut).
 */
export const PARTITION_DAYS_AHEAD = 7;

/**
 * How long a webhook event waits for a relay before it goes unsent. A week covers a webhook
 * worker down over a long weekend and the time to notice and fix it; past that an event
 * ("a code was requested", "signed in") is stale news the receiver can no longer act on, and the
 * rows (user ids, masked addresses) should not be kept for ever only because no relay runs.
 */
const UNRELAYED_EVENT_SECONDS = 7 * 86_400;

/**
 * Keeps the history tables' partitions a week ahead, and deletes expired data on a timer: the
 * partitions of challenges (with their outbox rows and delivery attempts) whose day has ended and
 * whose every challenge expired before the retention, the weeks of audit events older than theirs
 * (whole partitions, never row by row), refresh and MFA tokens ended before the retention,
 * sessions a year after they ended, per-recipient windows nobody used within the window unless
 * their failure window is still running (the row is then the recipient's count of wrong codes, or
 * its lock), accounts whose email nobody verified, security notices older than the retention
 * (with their outbox rows), the SMS counters of ended windows, and webhook events (relayed
 * ones after the retention, unrelayed ones after a week). Every replica runs it; the deletes are idempotent, so replicas racing
 * do no harm.
 */
export function startPurgeSchedule(options: PurgeScheduleOptions): PurgeSchedule {
  const { db, log } = options;
  const now = () => options.clock?.() ?? new Date();

  async function runOnce(when?: Date): Promise<PurgeOutcome> {
    const at = (when ?? now()).getTime();
    // Each its own transaction (one function call of the database's): the next days first, so a
    // failing drop never keeps the inserts of tomorrow from finding their partition.
    const partitionsCreated = await createHistoryPartitions(db, new Date(at), PARTITION_DAYS_AHEAD);
    const eventsBefore = new Date(at - options.securityEventSeconds * 1000);
    const dropped = await dropExpiredHistoryPartitions(
      db,
      new Date(at),
      new Date(at - options.retentionSeconds * 1000),
      eventsBefore,
    );
    // The audit events from before partitioning, until their partition goes whole.
    const legacySecurityEvents = await purgeLegacySecurityEvents(db, eventsBefore);
    const recipientWindows = await purgeRecipientWindows(
      db,
      new Date(at - options.recipientWindowSeconds * 1000),
      new Date(at),
    );
    const retainedSince = new Date(at - options.retentionSeconds * 1000);
    const refreshTokens = await deleteEndedRefreshTokens(db, retainedSince);
    const mfaTokens = await purgeExpiredMfaTokens(db, retainedSince);
    // An ended session is kept a year: it is what the new-device check remembers of the account.
    const sessions = await deleteEndedSessions(db, new Date(at - SESSION_MEMORY_SECONDS * 1000));
    // user.deleted's public event, as the table routes it, with `by: expiry`.
    const unverifiedAccounts = await deleteUnverifiedAccounts(
      db,
      new Date(at - options.unverifiedAccountSeconds * 1000),
      {
        type: USER_DELETED_WEBHOOK,
        data: { by: 'expiry' },
      },
    );
    const notifications = await purgeOldNotifications(db, retainedSince);
    // A day's window starts at most a day before it ends: two days back, every window has ended.
    const smsCounters = await purgeSmsCounters(db, new Date(at - 2 * 86_400_000));
    // A relayed event's jobs carry it from there: its row is kept only as long as a challenge's.
    const webhookEvents = await purgeEventOutbox(db, {
      dispatchedBefore: retainedSince,
      pendingBefore: new Date(at - UNRELAYED_EVENT_SECONDS * 1000),
    });
    const outcome = {
      partitionsCreated,
      challengeDays: dropped.challengeDays,
      smsCounters,
      recipientWindows,
      refreshTokens,
      sessions,
      mfaTokens,
      unverifiedAccounts,
      notifications,
      securityEventWeeks: dropped.securityEventWeeks,
      legacySecurityEvents,
      webhookEvents,
    };
    if (Object.values(outcome).some((count) => count > 0)) log.info(outcome, 'purged expired data');
    return outcome;
  }

  // The partitions ahead at once; the rest of the purge waits for the timer.
  const ready = createHistoryPartitions(db, now(), PARTITION_DAYS_AHEAD).then(
    (created) => {
      if (created > 0) log.info({ partitionsCreated: created }, 'history partitions made ahead at start');
    },
    (error: Error) => log.warn({ err: { message: error.message } }, 'could not make the history partitions at start'),
  );
  const timer = setInterval(() => {
    runOnce().catch((error: Error) => log.warn({ err: { message: error.message } }, 'purge failed'));
  }, options.intervalMs);
  timer.unref();
  return { ready, runOnce, stop: () => clearInterval(timer) };
}
