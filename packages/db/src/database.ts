import type {
  AttemptOutcome,
  Channel,
  DeliveryStatus,
  NoticeTemplate,
  Purpose,
  StoredChallengeStatus,
} from '@otp/domain';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** The message a challenge sends (the delivery job's template). */
export type ChallengeTemplate = 'otp-code' | 'account-exists' | 'reset-no-account';

/** Timestamps: read as Date, written as Date or SQL expressions. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface UserTable {
  id: Generated<string>;
  email: string | null;
  phone: string | null;
  email_verified_at: Timestamp | null;
  phone_verified_at: Timestamp | null;
  /** Argon2id PHC string; null for an account that signs in with codes only. */
  password_hash: string | null;
  name: string | null;
  /** Consecutive failed factor codes; at the limit the factors lock until a recovery code is used. */
  factor_failures: Generated<number>;
  /** The verify_email challenge of the latest registration while the email is unverified. */
  registration_challenge_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set by an operator (admin API): every sign-in and access token of the account is refused; null: enabled. */
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The catalogue locale of the last sign-in (or of the registration): the language of notices; null: DEFAULT_LOCALE. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface OtpChallengeTable {
  id: string;
  channel: Channel;
  purpose: Purpose;
  /** Keyed hash of the normalised recipient: counts challenges per recipient. */
  recipient_hash: Buffer;
  /** The normalised recipient, AES-256-GCM sealed (envelope bound to the challenge id). */
  recipient_sealed: string;
  recipient_masked: string;
  locale: string;
  user_id: string | null;
  /** Keyed hashes of the codes still valid, newest first: at most two (VALID_SENDS_KEPT), none for an `account-exists` challenge. */
  code_hashes: Buffer[];
  /** The message it sends: `otp-code`, or `account-exists` (no code; nothing verifies it). */
  template: ColumnType<ChallengeTemplate, ChallengeTemplate | undefined, ChallengeTemplate>;
  status: StoredChallengeStatus;
  send_count: number;
  attempt_count: number;
  max_attempts: number;
  max_sends: number;
  expires_at: Timestamp;
  resend_available_at: Timestamp;
  verified_at: Timestamp | null;
  client_ip: string | null;
  delivery_status: DeliveryStatus;
  delivery_attempts: Generated<number>;
  delivery_last_error: string | null;
  delivery_provider_message_id: string | null;
  delivery_updated_at: Timestamp;
  created_at: CreatedAt;
  /** SMS only: the number's region (ISO 3166-1 alpha-2, `001` for non-geographic numbers). */
  sms_country: ColumnType<string | null, string | null | undefined, string | null>;
  /** SMS only: the number's range, `<country code>-<first national digits>` (e.g. `44-7700`). */
  sms_range: ColumnType<string | null, string | null | undefined, string | null>;
  /** SMS only: when the conversion breaker counted the challenge's outcome; null: not yet. */
  outcome_counted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The server key (its name in API_KEYS) that started it; null: started without a key. */
  api_key_name: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OtpRecipientWindowTable {
  recipient_hash: Buffer;
  /** Times of the messages (new challenges and resends) still inside the limit's window. */
  recent: ColumnType<Date[], never, never>;
  /** Time of the newest message. */
  updated_at: Timestamp;
  /** Wrong codes counted (units of the failure budget taken) in the current failure window. */
  failure_count: Generated<number>;
  /** End of the fixed failure window begun by the first counted failure; null: none counted. */
  failure_window_ends_at: Timestamp | null;
}

export type OutboxStatus = 'pending' | 'dispatched';

/** What an outbox row carries: a send of a code (a challenge's) or a security notice. */
export type OutboxKind = 'code' | 'notice';

export interface DeliveryOutboxTable {
  id: Generated<string>;
  kind: ColumnType<OutboxKind, OutboxKind | undefined, never>;
  /** Set on a `code` row only (a CHECK holds each kind to its ids). */
  challenge_id: ColumnType<string | null, string | null | undefined, never>;
  send_number: ColumnType<number | null, number | null | undefined, never>;
  /** Set on a `notice` row only. */
  notification_id: ColumnType<string | null, string | null | undefined, never>;
  channel: Channel;
  job_id: string;
  /** The BullMQ job data: masked fields plus the sealed envelope, never a clear code or address. */
  job_data: ColumnType<Record<string, unknown>, string, string>;
  status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
  relay_attempts: Generated<number>;
  last_error: string | null;
  available_at: ColumnType<Date, Date | string | undefined, Date | string>;
  dispatched_at: Timestamp | null;
  created_at: CreatedAt;
  /**
   * The partition key: the created_at of the row's challenge (a code) or notification (a notice),
   * set by the repositories from that row; a partition's foreign keys hold it to the owner's.
   */
  owner_created_at: ColumnType<Date, Date | undefined, never>;
}

export interface DeliveryAttemptTable {
  id: Generated<string>;
  challenge_id: string;
  send_number: number;
  channel: Channel;
  provider: string;
  attempt: number;
  outcome: AttemptOutcome;
  error_code: string | null;
  error_message: string | null;
  provider_message_id: string | null;
  duration_ms: number;
  /** The catalogue locale the message was written in; null on attempts before it was recorded. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  /**
   * The partition key: the challenge's created_at. A writer that read the challenge passes it as
   * Postgres printed it (text, exact to the microsecond, which a Date is not); otherwise the
   * repositories read it from the challenge's row.
   */
  challenge_created_at: ColumnType<Date, string | undefined, never>;
}

export type NotificationStatus = 'queued' | 'sent' | 'failed';

/** One security notice (packages/domain/src/notices.ts): the worker's record of whether it went out. */
export interface NotificationTable {
  id: string;
  /** NULL once the account is deleted (its last notice outlives it). */
  user_id: string | null;
  template: NoticeTemplate;
  channel: ColumnType<'email', 'email' | undefined, never>;
  status: ColumnType<NotificationStatus, NotificationStatus | undefined, NotificationStatus>;
  /** Attempts that failed (a sent notice does not count its successful one). */
  attempts: Generated<number>;
  provider_message_id: string | null;
  last_error: string | null;
  /** The catalogue locale the notice was written in, set when it is sent. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  sent_at: ColumnType<Date | null, never, Date | string | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface RefreshTokenTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: Buffer;
  /** Idle deadline of this token (never past family_expires_at). */
  expires_at: Timestamp;
  /** Absolute end of the family (the sign-in this token descends from). */
  family_expires_at: Timestamp;
  revoked_at: Timestamp | null;
  replaced_by: string | null;
  created_at: CreatedAt;
}

/** A sign-in: its refresh tokens (the family) rotate under this row's lock. */
export interface SessionTable {
  id: string;
  user_id: string;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date, Date, Date>;
  /** Absolute end (REFRESH_TOKEN_TTL_SECONDS after the sign-in). */
  expires_at: ColumnType<Date, Date, Date>;
  /** When the user last proved a factor (a password, a code); a refresh never moves it. */
  auth_time: ColumnType<Date, Date, Date>;
  /**
   * RFC 8176 values of how the sign-in was proved (`["pwd", "otp", "mfa"]`), carried by every
   * access token of the session; null for sessions from before tokens had amr (their tokens carry none).
   */
  amr: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  user_agent: string | null;
  /** The client's IPv6 /64 (its start address) or IPv4 address; NULL for sessions from before this table. */
  client_network: string | null;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Why: `logout`, `reuse_detected`, `before_sessions`, `claimed`, `ended_by_user`, `logout_all`, `password_changed`, `password_reset`. */
  revoked_reason: string | null;
}

export interface MfaTokenTable {
  /** SHA-256 of the opaque token handed to the client between password and second factor. */
  token_hash: Buffer;
  user_id: string;
  attempt_count: Generated<number>;
  max_attempts: number;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
  /** The catalogue locale of the first step, the account's language once the MFA step completes; null: none recorded. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  /** The first factor's RFC 8176 values, to which the MFA step adds the second's; null: none recorded. */
  amr: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  created_at: CreatedAt;
}

export interface SecurityEventTable {
  id: ColumnType<string, never, never>;
  type: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** Ids, reasons and counters only: never a code, password, token or full address. */
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: CreatedAt;
}

export type FactorKind = 'totp' | 'hotp';

export interface UserFactorTable {
  id: Generated<string>;
  user_id: string;
  kind: FactorKind;
  /** The shared secret sealed under FACTOR_KEYS (key id inside, so keys rotate). */
  secret_envelope: string;
  algorithm: string;
  digits: number;
  /** TOTP step in seconds; null for HOTP. */
  period: number | null;
  /** HOTP: the lowest counter a code may still have (bigint, read as a string). */
  counter: ColumnType<string | null, string | number | bigint | null, string | number | bigint | null>;
  /** TOTP: the last accepted time step; a code of this step or earlier is refused. */
  last_step: ColumnType<string | null, string | number | bigint | null, string | number | bigint | null>;
  /** Null while pending (enrolled, first code not verified yet). */
  enabled_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface RecoveryCodeTable {
  id: ColumnType<string, never, never>;
  user_id: string;
  /** Keyed hash (HMAC) of the normalised code, bound to the user. */
  code_hash: Buffer;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}

export type SmsCounterScope = 'range' | 'country' | 'all';
export type SmsCounterPeriod = 'hour' | 'day';

/** SMS sends (new challenges and resends) per scope and fixed window: the velocity limits and the budget. */
export interface SmsCounterTable {
  scope: SmsCounterScope;
  /** The range (`44-7700`), the country (`GB`), or `*` for scope `all`. */
  key: string;
  period: SmsCounterPeriod;
  window_start: Timestamp;
  count: number;
}

/** The conversion breaker of one number range or country. */
export interface SmsBreakerTable {
  scope: 'range' | 'country';
  key: string;
  /** Outcomes of its latest ended SMS challenges, oldest first (true: verified), at most the sample size. */
  outcomes: ColumnType<boolean[], boolean[] | undefined, boolean[]>;
  /** SMS to it are refused (503 channel_suspended) until then; null or past: not suspended. */
  suspended_until: Timestamp | null;
  /** How often it has tripped. */
  trips: Generated<number>;
  updated_at: Generated<Date>;
}

/** A run-time switch an operator turned off or on again (`sms`, `email`, `country:GB`, `provider:twilio`). */
export interface KillSwitchTable {
  target: string;
  /** true: switched off (requests refused with 503 channel_suspended). */
  off: boolean;
  changed_at: Generated<Date>;
  /** Who changed it, as the operator's command said (free text, never a secret). */
  changed_by: string | null;
}

/** An event for the webhooks, written in the transaction of the change it reports (docs/webhooks.md). */
export interface EventOutboxTable {
  /** The event's id: the `webhook-id` of every delivery of it, retries included. */
  id: string;
  /** A public event type (WEBHOOK_EVENT_TYPES). */
  type: string;
  occurred_at: Timestamp;
  /** Ids, masked recipients, metadata: never a code, secret or full address. */
  data: ColumnType<Record<string, unknown>, string, string>;
  status: ColumnType<'pending' | 'dispatched', 'pending' | undefined, 'dispatched'>;
  available_at: ColumnType<Date, Date | string | undefined, Date | string>;
  relay_attempts: Generated<number>;
  last_error: string | null;
  dispatched_at: ColumnType<Date | null, never, Date | string>;
}

/** What Postgres remembers of a configured webhook endpoint: whether it is disabled (410 Gone). */
export interface WebhookEndpointTable {
  /** Derived from the URL (`webhookEndpointId`). */
  id: string;
  /** The URL's scheme, host and port: the path may hold a token and is never stored. */
  origin: string;
  disabled_at: Date | null;
  disabled_reason: string | null;
  /** Who enabled or disabled it last: the worker, or the operator's command. */
  changed_by: string | null;
  updated_at: Generated<Date>;
}

export interface Database {
  users: UserTable;
  otp_challenges: OtpChallengeTable;
  otp_recipient_windows: OtpRecipientWindowTable;
  delivery_outbox: DeliveryOutboxTable;
  notifications: NotificationTable;
  delivery_attempts: DeliveryAttemptTable;
  refresh_tokens: RefreshTokenTable;
  sessions: SessionTable;
  mfa_tokens: MfaTokenTable;
  security_events: SecurityEventTable;
  sms_counters: SmsCounterTable;
  sms_breakers: SmsBreakerTable;
  kill_switches: KillSwitchTable;
  user_factors: UserFactorTable;
  recovery_codes: RecoveryCodeTable;
  event_outbox: EventOutboxTable;
  webhook_endpoints: WebhookEndpointTable;
}

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type OtpChallenge = Selectable<OtpChallengeTable>;
export type OtpRecipientWindow = Selectable<OtpRecipientWindowTable>;
export type NewOtpChallenge = Insertable<OtpChallengeTable>;
export type DeliveryOutboxRow = Selectable<DeliveryOutboxTable>;
export type NewDeliveryOutboxRow = Insertable<DeliveryOutboxTable>;
/** A code row of the outbox: its challenge and send are set. */
export type CodeOutboxRow = DeliveryOutboxRow & { kind: 'code'; challenge_id: string; send_number: number };
export type Notification = Selectable<NotificationTable>;
export type NewNotification = Insertable<NotificationTable>;
export type DeliveryAttempt = Selectable<DeliveryAttemptTable>;
export type NewDeliveryAttempt = Insertable<DeliveryAttemptTable>;
export type RefreshToken = Selectable<RefreshTokenTable>;
export type NewRefreshToken = Insertable<RefreshTokenTable>;
export type Session = Selectable<SessionTable>;
export type NewSession = Insertable<SessionTable>;
export type MfaToken = Selectable<MfaTokenTable>;
export type SecurityEvent = Selectable<SecurityEventTable>;
export type NewSecurityEvent = Insertable<SecurityEventTable>;
export type UserFactor = Selectable<UserFactorTable>;
export type SmsBreaker = Selectable<SmsBreakerTable>;
export type EventOutboxRow = Selectable<EventOutboxTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointTable>;
export type KillSwitch = Selectable<KillSwitchTable>;
