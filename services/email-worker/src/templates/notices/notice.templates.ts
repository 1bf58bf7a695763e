import { type NoticeInput, type NoticeRenderers, pickLocale, type RenderedMessage } from '@otp/delivery';
import { type NoticeLines, noticeTime, renderNotice } from './notice.layout.ts';

type Strings = (app: string, input: NoticeInput) => NoticeLines;

const FACTOR_NAMES = { totp: 'an authenticator app', hotp: 'a hardware token (HOTP)' } as const;
const FACTOR_CHANGES = { enrolled: 'added', enabled: 'turned on', removed: 'removed' } as const;

// What to do if it was not the reader, shared by every notice: take the account back first.
const secure = (app: string) => [
  `If this was not you, sign in to ${app} now and change your password; then check your sign-in methods (authenticator apps, hardware tokens, phone) and remove any you do not recognise.`,
  `If you cannot sign in, contact ${app} support. We will never ask you for a code or a password by email.`,
];

// One entry per language; a locale without its language here gets English. No line shows a
// code, a token or a full phone number: the facts hold none.
const STRINGS: { en: Record<keyof NoticeRenderers, Strings> } & Record<string, Record<keyof NoticeRenderers, Strings>> =
  {
    en: {
      'new-sign-in': (app, { facts }) => ({
        subject: `New sign-in to your ${app} account`,
        happened: `Your ${app} account was just signed in to from a device we have not seen recently.`,
        facts: [
          ['When', noticeTime(facts.at)],
          ['Device', facts.userAgent ?? 'unknown'],
          ['Network', facts.network ?? 'unknown'],
        ],
        ifYou: 'If this was you, there is nothing to do.',
        ifNotYou: secure(app),
      }),
      'phone-changed': (app, { facts }) => ({
        subject: `A new phone number was added to your ${app} account`,
        happened: `A new phone number was verified on your ${app} account.`,
        facts: [
          ['When', noticeTime(facts.at)],
          ['Phone', facts.phoneMasked ?? 'hidden'],
        ],
        ifYou: 'If this was you, there is nothing to do.',
        ifNotYou: secure(app),
      }),
      'factor-changed': (app, { facts }) => {
        const factor = facts.factorKind === undefined ? 'a sign-in method' : FACTOR_NAMES[facts.factorKind];
        const change = facts.change === undefined ? 'changed' : FACTOR_CHANGES[facts.change];
        return {
          subject: `A sign-in method was ${change} for your ${app} account`,
          happened: `Two-step sign-in on your ${app} account changed: ${factor} was ${change}.`,
          facts: [['When', noticeTime(facts.at)]],
          ifYou: 'If this was you, there is nothing to do.',
          ifNotYou: secure(app),
        };
      },
      'recovery-codes-regenerated': (app, { facts }) => ({
        subject: `New recovery codes for your ${app} account`,
        happened: `A new set of recovery codes was made for your ${app} account. The old codes no longer work.`,
        facts: [['When', noticeTime(facts.at)]],
        ifYou: 'If this was you, keep the new codes somewhere safe.',
        ifNotYou: secure(app),
      }),
      'factor-locked': (app, { facts }) => ({
        subject: `Two-step sign-in locked on your ${app} account`,
        happened: `Too many wrong two-step codes were entered for your ${app} account, so authenticator codes are refused until one of your recovery codes is used.`,
        facts: [['When', noticeTime(facts.at)]],
        ifYou: 'If this was you, sign in with one of your recovery codes to unlock it.',
        ifNotYou: [`Someone may know your password. ${secure(app)[0] ?? ''}`, ...secure(app).slice(1)],
      }),
      'session-revoked': (app, { facts }) => ({
        subject: `We signed out a session of your ${app} account`,
        happened: `A sign-in of your ${app} account was used from two places at once, which can mean a copy of it was stolen, so we ended it. You may have to sign in again on your devices.`,
        facts: [['When', noticeTime(facts.at)]],
        ifYou: 'If you simply signed in again, there is nothing to do.',
        ifNotYou: secure(app),
      }),
    },
  };

/** The security notice emails (packages/domain/src/notices.ts), one renderer per notice. */
export function createNoticeEmailTemplates(options: { appName: string }): NoticeRenderers {
  const renderer =
    (template: keyof NoticeRenderers) =>
    (input: NoticeInput): RenderedMessage =>
      renderNotice(pickLocale(input.locale, STRINGS)[template](options.appName, input));
  return {
    'new-sign-in': renderer('new-sign-in'),
    'phone-changed': renderer('phone-changed'),
    'factor-changed': renderer('factor-changed'),
    'recovery-codes-regenerated': renderer('recovery-codes-regenerated'),
    'factor-locked': renderer('factor-locked'),
    'session-revoked': renderer('session-revoked'),
  };
}
