import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `New sign-in to your ${app} account`,
    happened: `Your ${app} account was just signed in to from a device we have not seen recently.`,
    facts: [
      ['When', noticeTime(facts.at)],
      ['Device', facts.userAgent ?? 'unknown'],
      ['Network', facts.network ?? 'unknown'],
    ],
    ifYou: 'If this was you, there is nothing to do.',
    ifNotYou: secureAccount(app),
  }),
};

/** The `new-sign-in` notice: A sign-in from a device (user agent and network) not seen on the account recently. */
export function createNewSignInEmailTemplate(options: { appName: string }): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
