import { escapeHtml, type MessageRenderer, pickLocale, type RenderedMessage } from '@otp/delivery';

interface EmailStrings {
  subject: (app: string) => string;
  attempt: (app: string) => string;
  register: string;
  ignore: string;
}

// One entry per language; a locale without its language here gets English. Said to the
// address's owner only: the request that caused it answered as for an address with an account.
// It does not say whether an account that is not verified yet exists (whoever registered it may
// not own the address); registering again sends a verification code either way.
const STRINGS = {
  en: {
    subject: (app) => `Password reset for ${app}`,
    attempt: (app) =>
      `Someone, maybe you, asked to reset the ${app} password of this email address. There is no account with a verified email at this address, so there is no password to reset.`,
    register: 'To create an account, or to finish creating one, register with this address: a code will come here.',
    ignore: 'If you did not ask for this, ignore this email.',
  },
} satisfies { en: EmailStrings } & Record<string, EmailStrings>;

function html(lines: { attempt: string; register: string; ignore: string }): string {
  const paragraph = (text: string) => `<p style="margin:0 0 16px">${escapeHtml(text)}</p>`;
  return [
    '<!doctype html>',
    '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#222;margin:0;padding:24px">',
    paragraph(lines.attempt),
    paragraph(lines.register),
    `<p style="margin:0;color:#666;font-size:13px">${escapeHtml(lines.ignore)}</p>`,
    '</body></html>',
  ].join('\n');
}

/**
 * The `reset-no-account` email: sent instead of a reset code when the address has no verified
 * account (none at all, or one never verified). It has no code.
 */
export function createResetNoAccountEmailTemplate(options: { appName: string }): MessageRenderer<'reset-no-account'> {
  return (input): RenderedMessage => {
    const strings: EmailStrings = pickLocale(input.locale, STRINGS);
    const lines = { attempt: strings.attempt(options.appName), register: strings.register, ignore: strings.ignore };
    return {
      subject: strings.subject(options.appName),
      text: [lines.attempt, '', lines.register, '', lines.ignore, ''].join('\n'),
      html: html(lines),
    };
  };
}
