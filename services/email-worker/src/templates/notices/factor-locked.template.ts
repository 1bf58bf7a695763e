import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `Two-step sign-in locked on your ${app} account`,
    happened: `Too many wrong two-step codes were entered for your ${app} account, so authenticator codes are refused until one of your recovery codes is used.`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If this was you, sign in with one of your recovery codes to unlock it.',
    ifNotYou: ['Someone may know your password.', ...secureAccount(app)],
  }),
};

/** The `factor-locked` notice: Too many wrong factor codes in a row: codes are refused until a recovery code is used. */
export function createFactorLockedEmailTemplate(options: { appName: string }): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
