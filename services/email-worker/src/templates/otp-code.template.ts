import { escapeHtml, type MessageRenderer, minutesValid, pickLocale, type RenderedMessage } from '@otp/delivery';
import type { Purpose } from '@otp/domain';

interface EmailStrings {
  subject: Record<Purpose, (app: string) => string>;
  intro: Record<Purpose, (app: string) => string>;
  expires: (minutes: number) => string;
  ignore: Record<'default' | 'reset_password' | 'change_email', string>;
  neverShare: (app: string) => string;
}

// One entry per language; a locale without its language here gets English.
const STRINGS = {
  en: {
    subject: {
      login: (app) => `Your ${app} sign-in code`,
      verify_email: (app) => `Confirm your email address for ${app}`,
      verify_phone: (app) => `Your ${app} verification code`,
      reset_password: (app) => `Your ${app} password reset code`,
      change_email: (app) => `Confirm your new email address for ${app}`,
    },
    intro: {
      login: (app) => `Use this code to sign in to ${app}:`,
      verify_email: (app) => `Use this code to confirm your email address for ${app}:`,
      verify_phone: (app) => `Use this code to confirm your phone number for ${app}:`,
      reset_password: (app) => `Use this code to choose a new password for ${app}:`,
      change_email: (app) => `Use this code to move your ${app} account to this email address:`,
    },
    expires: (minutes) => `The code is valid for ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
    ignore: {
      default: 'If you did not ask for this, ignore this email: nobody can sign in without the code.',
      reset_password: 'If you did not ask for this, ignore this email: your password stays as it is.',
      change_email:
        'If you did not ask for this, ignore this email: no account moves to this address without the code.',
    },
    neverShare: (app) => `Never share this code. ${app} will never ask you for it.`,
  },
} satisfies { en: EmailStrings } & Record<string, EmailStrings>;

function html(lines: { intro: string; code: string; expires: string; neverShare: string; ignore: string }): string {
  const paragraph = (text: string) => `<p style="margin:0 0 16px">${escapeHtml(text)}</p>`;
  return [
    '<!doctype html>',
    '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#222;margin:0;padding:24px">',
    paragraph(lines.intro),
    `<p style="margin:0 0 16px;font-size:32px;font-weight:bold;letter-spacing:6px;font-family:monospace">${escapeHtml(lines.code)}</p>`,
    paragraph(lines.expires),
    paragraph(lines.neverShare),
    `<p style="margin:0;color:#666;font-size:13px">${escapeHtml(lines.ignore)}</p>`,
    '</body></html>',
  ].join('\n');
}

/** The `otp-code` email: subject, plain text and HTML, the code first so it is easy to spot. */
export function createOtpCodeEmailTemplate(options: { appName: string }): MessageRenderer {
  return (input): RenderedMessage => {
    const strings: EmailStrings = pickLocale(input.locale, STRINGS);
    const lines = {
      intro: strings.intro[input.purpose](options.appName),
      code: input.code,
      expires: strings.expires(minutesValid(input.expiresAt, input.now)),
      neverShare: strings.neverShare(options.appName),
      ignore:
        strings.ignore[
          input.purpose === 'reset_password' || input.purpose === 'change_email' ? input.purpose : 'default'
        ],
    };
    return {
      subject: strings.subject[input.purpose](options.appName),
      text: [lines.intro, '', lines.code, '', lines.expires, lines.neverShare, '', lines.ignore, ''].join('\n'),
      html: html(lines),
    };
  };
}
