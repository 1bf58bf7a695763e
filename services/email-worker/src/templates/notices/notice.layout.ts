import { escapeHtml, type NoticeInput, pickLocale, type RenderedMessage } from '@otp/delivery';

/** What every notice says, in order: what happened, when (and from where), what to do if not you. */
export interface NoticeLines {
  subject: string;
  /** What happened, one sentence. */
  happened: string;
  /** Facts shown one per line: `label: value`. */
  facts: Array<[label: string, value: string]>;
  /** If it was you. */
  ifYou: string;
  /** If it was not you: the steps. */
  ifNotYou: string[];
}

/** A time as a reader anywhere can place it: UTC, to the minute. */
export function noticeTime(at: string): string {
  return `${at.slice(0, 10)} ${at.slice(11, 16)} UTC`;
}

/** The plain-text and HTML shapes of one notice; the HTML escapes everything it shows. */
export function renderNotice(lines: NoticeLines): RenderedMessage {
  const paragraph = (text: string) => `<p style="margin:0 0 16px">${escapeHtml(text)}</p>`;
  const facts = lines.facts.map(([label, value]) => `${label}: ${value}`);
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#222;margin:0;padding:24px">',
    paragraph(lines.happened),
    `<ul style="margin:0 0 16px">${facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join('')}</ul>`,
    paragraph(lines.ifYou),
    ...lines.ifNotYou.map(paragraph),
    '</body></html>',
  ].join('\n');
  const text = [lines.happened, '', ...facts, '', lines.ifYou, '', ...lines.ifNotYou, ''].join('\n');
  return { subject: lines.subject, text, html };
}

/** What to do if it was not the reader, shared by every notice: take the account back first. */
export function secureAccount(app: string): string[] {
  return [
    `If this was not you, sign in to ${app} now and change your password; then check your sign-in methods (authenticator apps, hardware tokens, phone) and remove any you do not recognise.`,
    `If you cannot sign in, contact ${app} support. We will never ask you for a code or a password by email.`,
  ];
}

/** One language's lines of a notice, from the product name and what happened. */
export type NoticeStrings = (app: string, input: NoticeInput) => NoticeLines;

/**
 * A notice's renderer: the strings of the job's locale (English when its language is missing),
 * in the layout above. No line may show a code, a token or a full phone number: the facts hold none.
 */
export function noticeRenderer(
  strings: { en: NoticeStrings } & Record<string, NoticeStrings>,
  options: { appName: string },
): (input: NoticeInput) => RenderedMessage {
  return (input) => renderNotice(pickLocale(input.locale, strings)(options.appName, input));
}
