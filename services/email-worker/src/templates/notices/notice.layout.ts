import { escapeHtml, type RenderedMessage } from '@otp/delivery';

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
