import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `A new phone number was added to your ${app} account`,
    happened: `A new phone number was verified on your ${app} account.`,
    facts: [
      ['When', noticeTime(facts.at)],
      ['Phone', facts.phoneMasked ?? 'hidden'],
    ],
    ifYou: 'If this was you, there is nothing to do.',
    ifNotYou: secureAccount(app),
  }),
};

/** The `phone-changed` notice: A new phone number verified on the account; the number shown masked (last four digits). */
export function createPhoneChangedEmailTemplate(options: { appName: string }): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
