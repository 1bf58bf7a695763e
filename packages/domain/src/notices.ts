// Do not rename: live jobs in Redis carry these names in `template`.
/**
 * Security notices: emails to an account's verified address about a change to its security or
 * a sign-in it may not know of. Never a code, a token or a full phone number. Each is attached to
 * the event that causes it (`notice` in EVENT_TYPES), so recording the event sends the notice.
 * - `new-sign-in`: a sign-in from a device (user agent and /64 network) unseen for 90 days;
 * - `phone-changed`: a new phone number was verified on the account;
 * - `factor-changed`: an authenticator app or hardware token was added, enabled or removed;
 * - `recovery-codes-regenerated`: a new set of recovery codes replaced the old one;
 * - `factor-locked`: too many wrong factor codes: they are refused until a recovery code is used;
 * - `session-revoked`: a refresh token was used twice (a stolen copy?): that sign-in was ended;
 * - `password-changed`: the password was set, changed or reset (`how` in its facts), and which
 *   other sign-ins that ended;
 * - `email-changed`: the account moved to another email address (shown masked); sent to the old
 *   address, the one that no longer receives anything else;
 * - `account-deleted`: the account and its data were deleted (by its user or an operator), the
 *   last message it gets;
 * - `factors-reset`: an operator removed the account's authenticator apps, hardware tokens and
 *   recovery codes (a user who lost them all asked support to get back in).
 */
export const NOTICE_TEMPLATES = [
  'new-sign-in',
  'phone-changed',
  'factor-changed',
  'recovery-codes-regenerated',
  'factor-locked',
  'session-revoked',
  'password-changed',
  'email-changed',
  'account-deleted',
  'factors-reset',
] as const;
export type NoticeTemplate = (typeof NOTICE_TEMPLATES)[number];
