import { type MessageRenderer, minutesValid, pickLocale } from '@otp/delivery';

interface SmsStrings {
  body: (app: string, code: string, minutes: number) => string;
}

// One entry per language; a locale without its language here gets English.
const STRINGS = {
  en: {
    body: (app, code, minutes) =>
      `Your ${app} code is ${code}. It expires in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}. Do not share it.`,
  },
} satisfies { en: SmsStrings } & Record<string, SmsStrings>;

/**
 * The `otp-code` SMS. The last line is the WebOTP / origin-bound one-time code line
 * (`@domain #code`), so browsers and phones offer the code only on that site.
 */
export function createOtpCodeSmsTemplate(options: { appName: string; webOtpDomain: string }): MessageRenderer {
  return (input) => {
    const strings: SmsStrings = pickLocale(input.locale, STRINGS);
    const minutes = minutesValid(input.expiresAt, input.now);
    return { text: `${strings.body(options.appName, input.code, minutes)}\n\n@${options.webOtpDomain} #${input.code}` };
  };
}
