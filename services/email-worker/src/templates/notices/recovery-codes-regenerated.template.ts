import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => ({
    subject: `New recovery codes for your ${app} account`,
    happened: `A new set of recovery codes was made for your ${app} account. The old codes no longer work.`,
    facts: [['When', noticeTime(facts.at)]],
    ifYou: 'If this was you, keep the new codes somewhere safe.',
    ifNotYou: secureAccount(app),
  }),
};

/** The `recovery-codes-regenerated` notice: A new set of recovery codes replaced the old one (the codes themselves are never in it). */
export function createRecoveryCodesRegeneratedEmailTemplate(options: {
  appName: string;
}): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
