import type { NoticeTemplate } from './notices.ts';
import type { Purpose } from './queue-contract.ts';
import type { Channel } from './recipient.ts';
import type { WebhookRoute } from './webhook-events.ts';

/** How a code event is counted, as `otp_code_events_total{event}`. */
export type CodeMetricEvent = 'requested' | 'verified' | 'failed' | 'expired' | 'locked' | 'recipient_locked';

export interface EventTypeEntry {
  /** The log level of its line: `warn` for what may be an attack or a user in trouble. */
  level: 'info' | 'warn';
  /** Written to the audit trail (`security_events`) in the caller's transaction. */
  audit: boolean;
  /** Counted in `otp_code_events_total` under this label (code events only). */
  codeMetric?: CodeMetricEvent;
  /** When it is recorded, and what its details say (rendered into docs/accounts-and-factors.md). */
  description: string;
  /**
   * The security notice it sends to the account's verified address, in the transaction that
   * records it (through the outbox). A call may say `notice: false` (e.g. a factor enrolment only
   * begun).
   */
  notice?: NoticeTemplate;
  /**
   * The webhook events it sends (WEBHOOK_EVENT_TYPES), written to the events outbox in the
   * transaction that records it; a route with `when` applies only to details that match.
   */
  webhook?: readonly WebhookRoute[];
}

/**
 * Every event the gateway records, in one table: one call (`recordEvent` in the gateway) logs
 * it, counts it and, when `audit` is set, writes it to `security_events` in the transaction of
 * the change it records. (An operator command, outside the gateway, writes its audit row itself.) The name is the log line's `event` and the audit row's `type`: never
 * rename one (queries, alerts and the Postgres fallback of the sign-in throttle use them). Add an
 * entry here before recording a new event anywhere. Details hold ids, reasons, counters and
 * methods: never a code, password, token or full address.
 */
export const EVENT_TYPES = {
  // Email and SMS codes; their details always name the challenge, channel and purpose.
  'code.requested': {
    level: 'info',
    audit: false,
    codeMetric: 'requested',
    description: 'A challenge was accepted (202): its first code is on its way (`toMasked`: the address, masked).',
    webhook: [{ type: 'challenge.requested' }],
  },
  'code.resent': {
    level: 'info',
    audit: false,
    description: 'A new code was sent for a challenge (`sendNumber`).',
  },
  'code.verified': {
    level: 'info',
    audit: true,
    codeMetric: 'verified',
    description: 'A code was right and consumed the challenge (`toMasked`).',
    webhook: [{ type: 'challenge.verified' }],
  },
  'code.failed': {
    level: 'warn',
    audit: true,
    codeMetric: 'failed',
    description:
      'A wrong code was compared; `reason` invalid_code, or attempts_exhausted for the last one; `attemptsRemaining`.',
  },
  'code.locked': {
    level: 'warn',
    audit: true,
    codeMetric: 'locked',
    description: 'The attempts ran out: the challenge is locked.',
  },
  'code.recipient_locked': {
    level: 'warn',
    audit: true,
    codeMetric: 'recipient_locked',
    description:
      "A wrong code used up its recipient's failure budget (`failures`): until `lockedUntil` the address (`toMasked`) gets no code checked or sent. Recorded once per lock.",
    webhook: [{ type: 'account.locked', add: { reason: 'code_sign_in_lock' } }],
  },
  'code.expired': {
    level: 'warn',
    audit: true,
    codeMetric: 'expired',
    description: 'A code came for a challenge past its expiry.',
  },
  'code.delivery_failed': {
    level: 'warn',
    audit: false,
    description:
      'A code could not be delivered (`errorCode`, `toMasked`): the provider refused it for good, its retries ran out or its job stalled too often (recorded by the worker or the reconciler), or the carrier reported it undelivered or failed (`status`, by the status callback). Written to the events outbox only (no audit row), once per failed send.',
    webhook: [{ type: 'challenge.failed' }],
  },
  'code.refused': {
    level: 'warn',
    audit: true,
    description:
      'A code came for a challenge that takes none any more (`reason`: challenge_used, too_many_attempts, challenge_failed).',
  },

  // Accounts.
  // The SMS defences (no request: the conversion breaker's sweep records it).
  'sms.suspended': {
    level: 'warn',
    audit: true,
    description:
      'The conversion breaker suspended SMS to a number range or country (`scope`, `key`) until `until`: of its latest `sample` ended SMS challenges only `verified` were verified, under `minConversion`.',
  },
  'user.registered': {
    level: 'info',
    audit: true,
    description: 'An account was created with a password (`method`).',
    webhook: [{ type: 'user.created' }],
  },
  'user.created': {
    level: 'info',
    audit: true,
    description: 'The first code sign-in to an address created its account (`method`: email or sms).',
    webhook: [{ type: 'user.created' }],
  },
  'user.registration_renewed': {
    level: 'info',
    audit: true,
    description:
      'A registration for an address whose account is not verified yet: its password replaced, a new code sent (`challengeId`).',
  },
  'user.registration_existing': {
    level: 'info',
    audit: true,
    description:
      'A registration for an address that has a verified account: nothing changed, an account-exists message sent (`challengeId`).',
  },
  'user.claimed': {
    level: 'warn',
    audit: true,
    description:
      'The owner proved an address that someone had registered without verifying it: what the registrant set was removed (`password`, `phone`, `factors`, `recoveryCodes`) and its `sessions` revoked.',
  },
  'user.name_changed': {
    level: 'info',
    audit: true,
    description: 'The signed-in user set or removed their display name (`cleared`); the name itself is not recorded.',
  },
  'sign_in.succeeded': {
    level: 'info',
    audit: true,
    description: 'A first factor (and the second, when the account has one) signed the user in (`method`).',
    webhook: [{ type: 'user.signed_in' }],
  },
  'sign_in.failed': {
    level: 'warn',
    audit: true,
    description:
      'A password sign-in failed (`reason`: unknown_account, wrong_password), or a wrong current password at a password change (`method`: password_change): counted alike.',
  },
  'sign_in.unverified': {
    level: 'warn',
    audit: true,
    description: 'A right password for an account whose email is not verified: refused (403 email_not_verified).',
  },
  'sign_in.disabled': {
    level: 'warn',
    audit: true,
    description:
      'A right password, a completed MFA step or a refresh for an account an operator disabled: refused (403 account_disabled; `method`). A code sign-in refused so rolls back with its challenge and records nothing.',
  },
  'sign_in.throttled': {
    level: 'warn',
    audit: true,
    description: 'A password sign-in was refused by the failure limit before any hashing.',
  },
  'sign_in.new_device': {
    level: 'info',
    audit: true,
    description:
      'A sign-in from a user agent and network (IPv6 /64, IPv4 address) not seen on the account in 90 days (`sessionId`).',
    notice: 'new-sign-in',
  },
  'session.reauthentication_required': {
    level: 'warn',
    audit: true,
    description:
      'A change that needs a recent sign-in was asked with an older one (`action`, `authAgeSeconds`): answered 401 reauthentication_required.',
  },
  'mfa.required': {
    level: 'info',
    audit: true,
    description: 'The first factor was right; the account must pass the MFA step (`methods`).',
  },
  'mfa.failed': {
    level: 'warn',
    audit: true,
    description: 'A wrong second factor at the MFA step (`attemptsRemaining` of the mfaToken).',
  },
  'token.reuse_detected': {
    level: 'warn',
    audit: true,
    description:
      'A refresh token already rotated was presented again (`sessionId`, `revoked`): its session and every token of it are revoked.',
    notice: 'session-revoked',
    webhook: [{ type: 'refresh_token.reuse_detected' }],
  },
  'session.logged_out': {
    level: 'info',
    audit: true,
    description: 'A sign-out ended a session (`sessionId`, `revoked`: its tokens revoked).',
    webhook: [{ type: 'session.revoked', add: { reason: 'logout' } }],
  },
  'session.ended_by_user': {
    level: 'info',
    audit: true,
    description:
      'The signed-in user ended one of their sessions by its id (`sessionId`; `current`: the one they called from; `revoked`: its tokens revoked).',
    webhook: [{ type: 'session.revoked', add: { reason: 'ended_by_user' } }],
  },
  'session.logged_out_all': {
    level: 'warn',
    audit: true,
    description:
      'The signed-in user ended every session of the account (`sessionIds`; `revoked`: their tokens revoked), their own included.',
    webhook: [{ type: 'session.revoked', add: { reason: 'all_ended_by_user' } }],
  },
  'factor.changed': {
    level: 'info',
    audit: true,
    description: 'A factor was enrolled, enabled or removed (`kind`, `change`).',
    notice: 'factor-changed',
    webhook: [
      { type: 'factor.enabled', when: { change: 'enabled' } },
      { type: 'factor.disabled', when: { change: 'removed' } },
    ],
  },
  'factor.failed': {
    level: 'warn',
    audit: true,
    description: 'A wrong authenticator or recovery code (`failures` in a row), or one refused while locked.',
  },
  'factor.locked': {
    level: 'warn',
    audit: true,
    description: 'Too many wrong factor codes in a row: codes are refused until a recovery code is used.',
    notice: 'factor-locked',
    webhook: [{ type: 'account.locked', add: { reason: 'factor_lock' } }],
  },
  'recovery_code.used': {
    level: 'info',
    audit: true,
    description: 'A recovery code was used (`remaining`).',
  },
  'recovery_codes.regenerated': {
    level: 'info',
    audit: true,
    description: 'A new set of recovery codes replaced the old one.',
    notice: 'recovery-codes-regenerated',
  },
  'password.changed': {
    level: 'info',
    audit: true,
    description:
      'The password was set or changed (`how`: change, first, with the account signed in), or reset with an emailed code (`how`: reset); `sessionsRevoked`: the other sign-ins (every one, for a reset) ended.',
    notice: 'password-changed',
    webhook: [{ type: 'password.changed' }],
  },
  'password.reset_requested': {
    level: 'info',
    audit: true,
    description:
      'A password reset was asked for an address (`challengeId`, `account`: verified, unverified or none): a code went only to a verified account, a message without one otherwise.',
  },
  'phone.verification_requested': {
    level: 'info',
    audit: true,
    description: 'A signed-in user asked for a verify_phone code (`challengeId`).',
  },

  'phone.changed': {
    level: 'info',
    audit: true,
    description: 'A new phone number was verified on the account (`replaced`: whether one was there before).',
    notice: 'phone-changed',
  },
  'email.change_requested': {
    level: 'info',
    audit: true,
    description:
      'A signed-in user asked to move the account to another email address: a change_email code went there (`challengeId`).',
  },
  'email.changed': {
    level: 'info',
    audit: true,
    description:
      'The account moved to another, proven email address (`challengeId`, `emailMasked`: the new one, masked); the notice goes to the old address.',
    notice: 'email-changed',
    webhook: [{ type: 'email.changed' }],
  },
  'user.deleted': {
    level: 'info',
    audit: true,
    description:
      'The account was deleted (`by`: user, or operator with `operator` naming them) with its personal data; the details count what was removed (`sessions`, `refreshTokens`, `mfaTokens`, `factors`, `recoveryCodes`, `notifications`, `challenges`, `outboxRows`, `deliveryAttempts`, `recipientWindows`). This row and every earlier one of the account are kept anonymised: no user id, IP, user agent or request id, and no details but these counts. The last notice goes to the verified address. (The purge of registrations never verified records no row here, and sends the webhook alone, with `by`: expiry.)',
    notice: 'account-deleted',
    webhook: [{ type: 'user.deleted' }],
  },

  // The operators' admin API (services/gateway/src/admin/): every call, in the transaction of its
  // change. `operator` is the API key's name, `actor` the person the dashboard says is signed in
  // (X-Operator-Name, null when not sent). An address looked up is recorded only masked.
  'admin.unauthorized': {
    level: 'warn',
    audit: true,
    description:
      'An admin API call was refused (401): no key, a malformed one or one that is not configured (`reason`: missing, malformed, unknown), from `network`. The key presented is never recorded.',
  },
  'admin.users_searched': {
    level: 'info',
    audit: true,
    description: 'An operator looked accounts up by address (`by`: email or phone; `recipient`: masked; `found`).',
  },
  'admin.user_viewed': {
    level: 'info',
    audit: true,
    description: "An operator read an account's details: factors, sessions, recent security events.",
  },
  'admin.user_disabled': {
    level: 'warn',
    audit: true,
    description:
      'An operator disabled the account: every sign-in and access token is refused (403 account_disabled); `sessionIds` ended, `revoked` refresh tokens.',
    webhook: [{ type: 'user.disabled' }],
  },
  'admin.user_deleted': {
    level: 'warn',
    audit: true,
    description:
      'An operator deleted an account (`challenges`, `sessions` removed); names no account: the anonymised `user.deleted` row beside it holds the counts.',
  },
  'admin.user_enabled': {
    level: 'warn',
    audit: true,
    description: 'An operator enabled a disabled account again (`wasDisabled`: whether it was).',
  },
  'admin.sessions_revoked': {
    level: 'warn',
    audit: true,
    description: 'An operator ended every session of the account (`sessionIds`; `revoked`: their refresh tokens).',
    webhook: [{ type: 'session.revoked', add: { reason: 'operator' } }],
  },
  'admin.factors_reset': {
    level: 'warn',
    audit: true,
    description:
      'An operator removed the TOTP/HOTP factors (`factors`) and recovery codes (`recoveryCodes`) of the account and ended its factor lock: it signs in with its first factor alone until it enrols again.',
    notice: 'factors-reset',
    webhook: [{ type: 'factor.disabled', add: { reason: 'operator' } }],
  },
  'admin.user_unlocked': {
    level: 'warn',
    audit: true,
    description:
      "An operator ended the account's factor lock (`factorLock`: whether there was one) and the wrong-code locks of its email address and phone number (`recipients`: windows reset).",
  },
  'admin.recipient_looked_up': {
    level: 'info',
    audit: true,
    description: 'An operator listed the challenges sent to an address (`channel`, `recipient`: masked, `found`).',
  },
  'admin.security_events_read': {
    level: 'info',
    audit: true,
    description: 'An operator read a page of the audit trail (`filters`, `count`).',
  },
  'admin.security_events_exported': {
    level: 'info',
    audit: true,
    description: 'An operator began an NDJSON export of the audit trail (`filters`).',
  },
  'admin.kill_switches_viewed': {
    level: 'info',
    audit: true,
    description: 'An operator read the kill switches.',
  },
  'admin.kill_switch_set': {
    level: 'warn',
    audit: true,
    description: 'An operator switched a kill switch (`target`) off or back on (`on`).',
  },

  // Operator commands (recorded by the command, in the transaction of its change).
  'user.email_conflict_resolved': {
    level: 'info',
    audit: true,
    description:
      'An operator kept this account for its address (accounts:conflicts), deleting those sharing it (`removedUserIds`).',
  },
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
