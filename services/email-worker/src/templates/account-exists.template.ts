import { escapeHtml, type MessageRenderer, pickLocale, type RenderedMessage } from '@otp/delivery';

interface EmailStrings {
  subject: (app: string) => string;
  attempt: (app: string) => string;
  signIn: string;
  forgot: string;
  ignore: string;
}

// One entry per language; a locale without its language here gets English. No line names the
// address, a code, or anything about the account beyond its existence: that reaches the
// address's owner only, while the registration that caused it answered as for a new address.
const STRINGS = {
  en: {
    subject: (app) => `You already have an account with ${app}`,
    attempt: (app) =>
      `Someone, maybe you, just tried to register with ${app} using this email address. An account already exists for it, so no new one was created.`,
    signIn: 'To sign in, use your password, or ask for a sign-in code to be sent to this address.',
    forgot: 'If you forgot your password, use "Forgot password" in the app to reset it.',
    ignore: 'If you did not try to create an account, ignore this email.',
  },
} satisfies { en: EmailStrings } & Record<string, EmailStrings>;

function html(lines: { attempt: string; signIn: string; forgot: string; ignore: string }): string {
  const paragraph = (text: string) => `<p style="margin:0 0 16px">${escapeHtml(text)}</p>`;
  return [
    '<!doctype html>',
    '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#222;margin:0;padding:24px">',
    paragraph(lines.attempt),
    paragraph(lines.signIn),
    paragraph(lines.forgot),
    `<p style="margin:0;color:#666;font-size:13px">${escapeHtml(lines.ignore)}</p>`,
    '</body></html>',
  ].join('\n');
}

/**
 * The `account-exists` email: sent instead of a code when someone registers an address whose
 * account is verified already. It says how to sign in or recover the password, and has no code.
 */
export function createAccountExistsEmailTemplate(options: { appName: string }): MessageRenderer<'account-exists'> {
  return (input): RenderedMessage => {
    const strings: EmailStrings = pickLocale(input.locale, STRINGS);
    const lines = {
      attempt: strings.attempt(options.appName),
      signIn: strings.signIn,
      forgot: strings.forgot,
      ignore: strings.ignore,
    };
    return {
      subject: strings.subject(options.appName),
      text: [lines.attempt, '', lines.signIn, lines.forgot, '', lines.ignore, ''].join('\n'),
      html: html(lines),
    };
  };
}
