import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `The sign-in methods of your ${app} account were reset`,
    happened: `${app} support removed the authenticator apps, hardware tokens and recovery codes of your account. It is protected by your password or an emailed code alone until you add them again.`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If you asked support for this, sign in and set up an authenticator app and new recovery codes.',
    ifNotYou: secureAccount(app),
  }),
};

/** The `factors-reset` notice: an operator removed the account's second factors and recovery codes. */
export function createFactorsResetEmailTemplate(options: { appName: string }): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
