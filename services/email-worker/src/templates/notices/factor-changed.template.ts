import type { NoticeInput, RenderedMessage } from '@otp/delivery';
import { type NoticeStrings, noticeRenderer, noticeTime, secureAccount } from './notice.layout.ts';

const FACTOR_NAMES = { totp: 'an authenticator app', hotp: 'a hardware token (HOTP)' } as const;
const FACTOR_CHANGES = { enrolled: 'added', enabled: 'turned on', removed: 'removed' } as const;

// One entry per language; a locale without its language here gets English.
const STRINGS: { en: NoticeStrings } & Record<string, NoticeStrings> = {
  en: (app, { facts }) => {
    const factor = facts.factorKind === undefined ? 'a sign-in method' : FACTOR_NAMES[facts.factorKind];
    const change = facts.change === undefined ? 'changed' : FACTOR_CHANGES[facts.change];
    return {
      subject: `A sign-in method was ${change} for your ${app} account`,
      happened: `Two-step sign-in on your ${app} account changed: ${factor} was ${change}.`,
      facts: [['When', noticeTime(facts.at)]],
      ifYou: 'If this was you, there is nothing to do.',
      ifNotYou: secureAccount(app),
    };
  },
};

/** The `factor-changed` notice: an authenticator app or hardware token turned on or removed. */
export function createFactorChangedEmailTemplate(options: {
  appName: string;
}): (input: NoticeInput) => RenderedMessage {
  return noticeRenderer(STRINGS, options);
}
