import { NOTICE_TEMPLATES, PURPOSES } from '@otp/domain';

/**
 * What each catalogue file must hold: its keys, the arguments its messages may use, and (for an
 * email) the order its messages appear in. The wording is in the files (catalogue/<locale>/...);
 * this is the contract a file is checked against at start.
 */

/** An argument a message may use: plain text, a number (plurals), or one of a few values (select). */
export type ArgumentKind = { kind: 'text' } | { kind: 'number' } | { kind: 'select'; options: readonly string[] };

const text = { kind: 'text' } as const;
const number = { kind: 'number' } as const;
const select = (options: readonly string[]) => ({ kind: 'select', options }) as const;

/** One block of an email body: a paragraph, a small print paragraph, the code, or the facts list. */
export type EmailBlock = { paragraph: string } | { small: string } | 'code' | 'facts';

export interface FileSpec {
  /** Every key the file must have (and no other). */
  keys: readonly string[];
  /** The arguments its messages may use; a message naming any other stops the service. */
  args: Readonly<Record<string, ArgumentKind>>;
}

export interface EmailSpec extends FileSpec {
  /** The body, top to bottom; `subject` is the subject line. */
  body: readonly EmailBlock[];
  /** Facts (label key in notice-facts.json, fact) shown as a list where the body says `facts`. */
  facts?: readonly FactName[];
}

/** The facts a notice may list; their labels are in `email/notice-facts.json`. */
export const FACT_NAMES = ['when', 'device', 'network', 'newAddress', 'phone'] as const;
export type FactName = (typeof FACT_NAMES)[number];

const app = { app: text };
const notice = (extra: Record<string, ArgumentKind>, facts: readonly FactName[] = ['when']): EmailSpec => ({
  keys: ['subject', 'happened', 'ifYou', 'ifNotYou'],
  args: { ...app, ...extra },
  body: [{ paragraph: 'happened' }, 'facts', { paragraph: 'ifYou' }, { paragraph: 'ifNotYou' }],
  facts,
});

export const EMAIL_TEMPLATES = {
  'otp-code': {
    keys: ['subject', 'intro', 'expires', 'neverShare', 'ignore'],
    args: { ...app, purpose: select(PURPOSES), minutes: number },
    body: [{ paragraph: 'intro' }, 'code', { paragraph: 'expires' }, { paragraph: 'neverShare' }, { small: 'ignore' }],
  },
  'account-exists': {
    keys: ['subject', 'attempt', 'signIn', 'forgot', 'ignore'],
    args: app,
    body: [{ paragraph: 'attempt' }, { paragraph: 'signIn' }, { paragraph: 'forgot' }, { small: 'ignore' }],
  },
  'reset-no-account': {
    keys: ['subject', 'attempt', 'register', 'ignore'],
    args: app,
    body: [{ paragraph: 'attempt' }, { paragraph: 'register' }, { small: 'ignore' }],
  },
  'new-sign-in': notice({}, ['when', 'device', 'network']),
  'phone-changed': notice({}, ['when', 'phone']),
  'factor-changed': notice({
    factor: select(['totp', 'hotp']),
    change: select(['enrolled', 'enabled', 'removed']),
  }),
  'recovery-codes-regenerated': notice({}),
  'factor-locked': notice({}),
  'session-revoked': notice({}),
  'password-changed': notice({ how: select(['first', 'change', 'reset']), sessionsRevoked: number }),
  'email-changed': notice({}, ['when', 'newAddress']),
  'account-deleted': notice({}),
  'factors-reset': notice({}),
} as const satisfies Record<string, EmailSpec>;

export type EmailTemplate = keyof typeof EMAIL_TEMPLATES;

/**
 * The labels of the notices' facts, the words for a fact that is not known, and how a label and
 * its value make a line (`{label}: {value}`; French typography puts a space before the colon).
 */
export const NOTICE_FACTS_SPEC: FileSpec = {
  keys: [...FACT_NAMES, 'unknown', 'line'],
  args: { label: text, value: text },
};

export const SMS_TEMPLATES = {
  'otp-code': {
    keys: ['body'],
    args: { ...app, code: text, minutes: number, purpose: select(PURPOSES) },
  },
} as const satisfies Record<string, FileSpec>;

export type SmsTemplate = keyof typeof SMS_TEMPLATES;

// Every notice the domain knows has its email here: a new notice without one fails type checks.
NOTICE_TEMPLATES satisfies ReadonlyArray<EmailTemplate>;
