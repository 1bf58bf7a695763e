import type { Purpose } from './queue-contract.ts';
import type { Channel } from './recipient.ts';

/** How a code event is counted, as `otp_code_events_total{event}`. */
export type CodeMetricEvent = 'requested' | 'verified' | 'failed' | 'expired' | 'locked';

export interface EventTypeEntry {
  /** The log level of its line: `warn` for what may be an attack or a user in trouble. */
  level: 'info' | 'warn';
  /** Written to the audit trail (`security_events`) in the caller's transaction. */
  audit: boolean;
  /** Counted in `otp_code_events_total` under this label (code events only). */
  codeMetric?: CodeMetricEvent;
}

/**
 * Every event the gateway records, in one table: one call (`recordEvent` in the gateway) logs
 * it, counts it and, when `audit` is set, writes it to `security_events` in the transaction of
 * the change it records. The name is the log line's `event` and the audit row's `type`: never
 * rename one (queries, alerts and the Postgres fallback of the sign-in throttle use them). Add an
 * entry here before recording a new event anywhere. Details hold ids, reasons, counters and
 * methods: never a code, password, token or full address.
 */
export const EVENT_TYPES = {
  // Email and SMS codes; their details always name the challenge, channel and purpose.
  /** A challenge was accepted (202): its first code is on its way. */
  'code.requested': { level: 'info', audit: false, codeMetric: 'requested' },
  /** A new code was sent for a challenge (`sendNumber`). */
  'code.resent': { level: 'info', audit: false },
  /** A code was right and consumed the challenge. */
  'code.verified': { level: 'info', audit: true, codeMetric: 'verified' },
  /** A wrong code was compared; `reason` invalid_code, or attempts_exhausted for the last one; `attemptsRemaining`. */
  'code.failed': { level: 'warn', audit: true, codeMetric: 'failed' },
  /** The attempts ran out: the challenge is locked. */
  'code.locked': { level: 'warn', audit: true, codeMetric: 'locked' },
  /** A code came for a challenge past its expiry. */
  'code.expired': { level: 'warn', audit: true, codeMetric: 'expired' },
  /** A code came for a challenge that takes none any more (`reason`: challenge_used, too_many_attempts, challenge_failed). */
  'code.refused': { level: 'warn', audit: true },

  // Accounts.
  /** An account was created with a password (`method`). */
  'user.registered': { level: 'info', audit: true },
  /** A first factor (and the second, when the account has one) signed the user in (`method`). */
  'sign_in.succeeded': { level: 'info', audit: true },
  /** A password sign-in failed (`reason`: unknown_account, wrong_password). */
  'sign_in.failed': { level: 'warn', audit: true },
  /** A password sign-in was refused by the failure limit before any hashing. */
  'sign_in.throttled': { level: 'warn', audit: true },
  /** The first factor was right; the account must pass the MFA step (`methods`). */
  'mfa.required': { level: 'info', audit: true },
  /** A wrong second factor at the MFA step (`attemptsRemaining` of the mfaToken). */
  'mfa.failed': { level: 'warn', audit: true },
  /** A refresh token already rotated was presented again: its family is revoked. */
  'token.reuse_detected': { level: 'warn', audit: true },
  /** A sign-out revoked a refresh-token family. */
  'session.logged_out': { level: 'info', audit: true },
  /** A factor was enrolled, enabled or removed (`kind`, `change`). */
  'factor.changed': { level: 'info', audit: true },
  /** A wrong authenticator or recovery code (`failures` in a row), or one refused while locked. */
  'factor.failed': { level: 'warn', audit: true },
  /** Too many wrong factor codes in a row: codes are refused until a recovery code is used. */
  'factor.locked': { level: 'warn', audit: true },
  /** A recovery code was used (`remaining`). */
  'recovery_code.used': { level: 'info', audit: true },
  /** A new set of recovery codes replaced the old one. */
  'recovery_codes.regenerated': { level: 'info', audit: true },
  /** A signed-in user asked for a verify_phone code (`challengeId`). */
  'phone.verification_requested': { level: 'info', audit: true },
} as const satisfies Record<string, EventTypeEntry>;

export type EventType = keyof typeof EVENT_TYPES;
/** The events about one email or SMS challenge. */
export type CodeEventType = Extract<EventType, `code.${string}`>;

/** What every code event's details name. */
export interface ChallengeRef {
  challengeId: string;
  channel: Channel;
  purpose: Purpose;
}
