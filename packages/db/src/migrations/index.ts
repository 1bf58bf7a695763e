import type { Migration } from 'kysely/migration';
import * as initial from './2026_11_22_0001_initial.ts';
import * as recipientWindows from './2026_11_22_0002_recipient_windows.ts';
import * as accounts from './2026_11_22_0003_accounts.ts';
import * as authenticatorFactors from './2026_11_22_0004_authenticator_factors.ts';
import * as recipientFailures from './2026_12_04_0001_recipient_failures.ts';
import * as emailIdentity from './2026_12_04_0002_email_identity.ts';
import * as registration from './2026_12_04_0003_registration.ts';
import * as sessions from './2026_12_05_0001_sessions.ts';
import * as notifications from './2026_12_05_0002_notifications.ts';
import * as smsDefences from './2026_12_06_0001_sms_defences.ts';
import * as securityEventsRetention from './2026_12_06_0002_security_events_retention.ts';
import * as resetPassword from './2026_12_06_0003_reset_password.ts';
import * as accountLifecycle from './2026_12_07_0001_account_lifecycle.ts';
import * as accountDisabled from './2026_12_07_0002_account_disabled.ts';
import * as messageLocales from './2026_12_08_0001_message_locales.ts';
import * as mfaTokenLocale from './2026_12_08_0002_mfa_token_locale.ts';
import * as eventOutbox from './2026_12_09_0001_event_outbox.ts';
import * as sessionAmr from './2026_12_10_0001_session_amr.ts';
import * as challengeApiKey from './2026_12_10_0002_challenge_api_key.ts';
import * as partitionedHistory from './2026_12_11_0001_partitioned_history.ts';

/** Every migration, by name; names sort in the order they run. Add new ones at the end. */
export const migrations: Record<string, Migration> = {
  '2026_11_22_0001_initial': initial,
  '2026_11_22_0002_recipient_windows': recipientWindows,
  '2026_11_22_0003_accounts': accounts,
  '2026_11_22_0004_authenticator_factors': authenticatorFactors,
  '2026_12_04_0001_recipient_failures': recipientFailures,
  '2026_12_04_0002_email_identity': emailIdentity,
  '2026_12_04_0003_registration': registration,
  '2026_12_05_0001_sessions': sessions,
  '2026_12_05_0002_notifications': notifications,
  '2026_12_06_0001_sms_defences': smsDefences,
  '2026_12_06_0002_security_events_retention': securityEventsRetention,
  '2026_12_06_0003_reset_password': resetPassword,
  '2026_12_07_0001_account_lifecycle': accountLifecycle,
  '2026_12_07_0002_account_disabled': accountDisabled,
  '2026_12_08_0001_message_locales': messageLocales,
  '2026_12_08_0002_mfa_token_locale': mfaTokenLocale,
  '2026_12_09_0001_event_outbox': eventOutbox,
  '2026_12_10_0001_session_amr': sessionAmr,
  '2026_12_10_0002_challenge_api_key': challengeApiKey,
  '2026_12_11_0001_partitioned_history': partitionedHistory,
};
