/**
 * Every error a client can see. The key is the stable machine-readable `code` of the
 * problem+json body; clients branch on it, so never rename one. Titles are safe to show.
 */
export const ERROR_CODES = {
  /** The body, path or query did not match the route's schema (wrong type, unknown field...). */
  validation_failed: { status: 400, title: 'Invalid request' },
  /** The body could not be parsed as JSON. */
  malformed_body: { status: 400, title: 'Malformed request body' },
  /** The body was larger than the server accepts. */
  body_too_large: { status: 413, title: 'Request body too large' },
  /** The Content-Type is not application/json. */
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  /** The email address or phone number is not a valid, deliverable-looking recipient. */
  invalid_recipient: { status: 400, title: 'Invalid recipient' },
  /** The submitted code does not match the challenge; `attemptsRemaining` says how many are left. */
  invalid_code: { status: 400, title: 'Invalid code' },
  /** The challenge's attempt budget is used up; the challenge is locked. */
  too_many_attempts: { status: 429, title: 'Too many attempts' },
  /** The challenge is past its expiry. */
  challenge_expired: { status: 410, title: 'Challenge expired' },
  /** The challenge was already verified. */
  challenge_used: { status: 410, title: 'Challenge already used' },
  /** The code could not be delivered (permanent delivery failure); request a new challenge. */
  challenge_failed: { status: 410, title: 'Code could not be delivered' },
  /** No challenge has this id. */
  challenge_not_found: { status: 404, title: 'Challenge not found' },
  /** A resend was asked for before `resendAvailableAt`. */
  resend_too_soon: { status: 429, title: 'Resend not available yet' },
  /** The challenge has been sent the maximum number of times. */
  resend_limit_reached: { status: 429, title: 'Resend limit reached' },
  /** Too many messages (new challenges and resends) for this recipient in the current window. */
  recipient_rate_limited: { status: 429, title: 'Too many codes for this recipient' },
  /**
   * The recipient's budget of wrong codes (all its challenges, any purpose) is used up: its codes
   * are neither checked nor sent until the failure window ends (`Retry-After`).
   */
  recipient_locked: { status: 429, title: 'Too many wrong codes for this recipient' },
  /**
   * SMS to this number are not allowed: its country, its type (premium rate, toll free, VoIP...) or
   * a non-geographic number. One answer for every reason; nothing is written or sent.
   */
  recipient_not_allowed: { status: 400, title: 'Recipient not allowed' },
  /** Too many SMS to this number's range (country code and first digits) this hour; `Retry-After`. */
  sms_range_limited: { status: 429, title: 'Too many codes to this number range' },
  /** Too many SMS to this number's country this hour; `Retry-After`. */
  sms_country_limited: { status: 429, title: 'Too many codes to this country' },
  /** The day's SMS budget (all, or this country's) is spent; `Retry-After` until the next UTC day. Email still works. */
  sms_budget_exhausted: { status: 503, title: 'SMS budget exhausted' },
  /**
   * The channel, the number's country or range, or the provider is suspended: by an operator's
   * kill switch, or by the conversion breaker (too few codes verified); `Retry-After` when known.
   */
  channel_suspended: { status: 503, title: 'Channel suspended' },
  /** A human check (CAPTCHA) is needed: send `captchaToken` with the request. */
  captcha_required: { status: 400, title: 'Human check required' },
  /** The human check's token was refused by the CAPTCHA provider (wrong, expired or used). */
  captcha_failed: { status: 400, title: 'Human check failed' },
  /** Too many requests from this client address. */
  rate_limited: { status: 429, title: 'Too many requests' },
  /** A code sign-in for an address with no account while sign-up is turned off. */
  signup_disabled: { status: 403, title: 'Sign-up is disabled' },
  /** A verify_phone code for a number that another account already holds. */
  phone_taken: { status: 409, title: 'Phone number belongs to another account' },
  /** A change_email code for an address that another account took meanwhile (never says which). */
  email_taken: { status: 409, title: 'Email address belongs to another account' },
  /** Password sign-in failed: unknown email and wrong password alike (never says which). */
  invalid_credentials: { status: 401, title: 'Invalid email or password' },
  /**
   * An operator disabled the account (admin API): every sign-in (password, after the password is
   * checked; code; MFA step; refresh) and every access token is refused until it is enabled again.
   */
  account_disabled: { status: 403, title: 'Account disabled' },
  /** Password sign-in with the right password to an account whose email is not verified yet: verify it first. */
  email_not_verified: { status: 403, title: 'Email address not verified' },
  /**
   * Too many failed password sign-ins for this address or from this client network (an IPv6 /64)
   * in the window; answered before the password is checked, with Retry-After.
   */
  sign_in_throttled: { status: 429, title: 'Too many failed sign-in attempts' },
  /** The mfaToken is unknown, expired, already used or out of attempts: sign in again. */
  invalid_mfa_token: { status: 401, title: 'Invalid or expired MFA token' },
  /** The second-factor code or recovery code is wrong; `attemptsRemaining` says how many are left. */
  invalid_factor_code: { status: 400, title: 'Invalid second-factor code' },
  /** POST /v1/me/totp or /v1/me/hotp while that factor is already enabled: remove it first. */
  factor_already_enabled: { status: 409, title: 'Factor already enabled' },
  /** The account has no such factor (or none pending to verify, or none enabled to check). */
  factor_not_found: { status: 404, title: 'Factor not found' },
  /**
   * DELETE /v1/me for an account with an authenticator factor (or recovery codes) without `code` or
   * `recoveryCode`: deleting an account takes the same second factor as signing in to it.
   */
  factor_proof_required: { status: 400, title: 'Second-factor proof required' },
  /** Too many consecutive wrong factor codes: codes are refused until a recovery code is used. */
  factor_locked: { status: 403, title: 'Authenticator codes locked; use a recovery code' },
  /** The refresh token is unknown, expired, revoked or was already used (then its family is revoked). */
  invalid_refresh_token: { status: 401, title: 'Invalid refresh token' },
  /** Missing, malformed, expired or otherwise invalid access token. */
  unauthorized: { status: 401, title: 'Unauthorized' },
  /**
   * The access token is valid but its sign-in (`auth_time`) is older than REAUTH_MAX_AGE_SECONDS,
   * and the change asked for needs a recent one: sign in again (refreshing does not help). The
   * answer carries `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=N`.
   */
  reauthentication_required: { status: 401, title: 'Recent sign-in required' },
  /** A webhook call (Twilio's status callback) without a valid provider signature; nothing changes. */
  invalid_signature: { status: 403, title: 'Invalid request signature' },
  /**
   * A changing request (POST) to the dashboard that a browser says came from another site, or
   * that names no origin: refused so that a page elsewhere cannot act with an operator's
   * saved sign-in (cross-site request forgery).
   */
  cross_site_request: { status: 403, title: 'Cross-site request refused' },
  /** No route matches the method and path. */
  not_found: { status: 404, title: 'Not found' },
  /** A dependency (Postgres) is unavailable, or password hashing is at capacity; retry after `Retry-After`. */
  service_unavailable: { status: 503, title: 'Service unavailable' },
  /**
   * A service this one calls answered with something it cannot pass on: the dashboard's Lookup
   * page when the admin API refuses the dashboard's key or fails (5xx). Unreachable is 503.
   */
  upstream_failed: { status: 502, title: 'Upstream service failed' },
  /** Anything unexpected. The detail is never shown; the log has the stack. */
  internal_error: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface PublicErrorOptions {
  /** Human-readable, safe to show: never a code, secret or full address. */
  detail?: string;
  /** Extra members of the problem body, e.g. `attemptsRemaining`. */
  extra?: Record<string, unknown>;
  /** Becomes the `Retry-After` header (seconds). */
  retryAfterSeconds?: number;
  /** The `WWW-Authenticate` header of a 401 (default `Bearer`, RFC 6750). */
  wwwAuthenticate?: string;
}

/** The one error class whose content reaches clients (as application/problem+json). */
export class PublicError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;
  readonly wwwAuthenticate: string | undefined;

  constructor(code: ErrorCode, options: PublicErrorOptions = {}) {
    const entry = ERROR_CODES[code];
    super(options.detail ?? entry.title);
    this.name = 'PublicError';
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.detail = options.detail;
    this.extra = options.extra ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.wwwAuthenticate = options.wwwAuthenticate;
  }

  toProblem(instance?: string): Record<string, unknown> {
    return {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      ...this.extra,
    };
  }
}
