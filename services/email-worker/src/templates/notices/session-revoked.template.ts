import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `We signed out a session of your ${app} account`,
    happened: `A sign-in of your ${app} account was used from two places at once, which can mean a copy of it was stolen, so we ended it. You may have to sign in again on your devices.`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If you simply signed in again, there is nothing to do.',
    ifNotYou: secureAccount(app),
  }),
};

/** The `session-revoked` notice: A refresh token was used twice (a stolen copy?): that sign-in was ended. */
export function createSessionRevokedEmailTemplate(options: {
  appName: string;
}): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
