import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `Your ${app} account was deleted`,
    happened: `Your ${app} account and the personal data it held were deleted. This is the last message you get about it.`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If you asked for this, there is nothing to do.',
    // The account is gone: nothing to sign in to. A new one can be made with the same address,
    // which is worth saying, and support is the only place to ask what happened.
    ifNotYou: [
      `If this was not you, contact ${app} support. You can sign up again with this address at any time.`,
      `We will never ask you for a code or a password by email.`,
    ],
  }),
};

/** The `account-deleted` notice: the account and its data were deleted; the last message. */
export function createAccountDeletedEmailTemplate(options: {
  appName: string;
}): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
