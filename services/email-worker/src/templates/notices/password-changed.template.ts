import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import type { NoticeFacts } from '@otp/domain';
import { type NoticeStrings, noticeRenderer, noticeTime } from './notice.layout.ts';

const HOW: Record<NonNullable<NoticeFacts['how']>, string> = {
  first: 'A password was set for',
  change: 'The password was changed for',
  reset: 'The password was reset, with a code sent to this address, for',
};

const ended = (count: number | undefined) =>
  count === undefined || count === 0
    ? ''
    : count === 1
      ? ' One other sign-in was ended with it.'
      : ` ${count} other sign-ins were ended with it.`;

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `The password of your ${app} account was changed`,
    happened: `${HOW[facts.how ?? 'change']} your ${app} account.${ended(facts.sessionsRevoked)}`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If you did this, there is nothing to do.',
    // The usual advice (sign in and change the password) fails when someone else changed it:
    // the reader resets it from this address instead.
    ifNotYou: [
      `If this was not you, reset your password now with "Forgot password" on the ${app} sign-in page (the code comes to this address); then check your sign-in methods (authenticator apps, hardware tokens, phone) and remove any you do not recognise.`,
      `If you cannot sign in, contact ${app} support. We will never ask you for a code or a password by email.`,
    ],
  }),
};

/** The `password-changed` notice: the password was set, changed or reset. */
export function createPasswordChangedEmailTemplate(options: {
  appName: string;
}): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
