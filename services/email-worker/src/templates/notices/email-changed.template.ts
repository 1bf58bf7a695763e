import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `The email address of your ${app} account was changed`,
    happened: `Your ${app} account now uses another email address. This address no longer signs in to it and gets no more codes or messages about it.`,
    facts: [
      ['When', noticeTime(facts.at)],
      ['New address', facts.emailMasked ?? 'hidden'],
    ],
    ifYou: 'If this was you, there is nothing to do.',
    // The reader has lost the account's address: "sign in and change it" is no longer open to
    // them, so the only way back is support.
    ifNotYou: [
      `If this was not you, someone who could sign in to your account has moved it to their address: contact ${app} support now, and write from this address.`,
      `We will never ask you for a code or a password by email.`,
    ],
  }),
};

/** The `email-changed` notice, sent to the old address: the account moved to another one (masked). */
export function createEmailChangedEmailTemplate(options: { appName: string }): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
