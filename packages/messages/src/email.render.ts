import type { Brand } from './brand.ts';
import type { Catalogue } from './catalogue.loader.ts';
import { EMAIL_TEMPLATES, type EmailBlock, type EmailTemplate, type FactName } from './catalogue.spec.ts';
import { formatKey, type MessageValues } from './message.compile.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** The catalogue locale the message is in. */
  locale: string;
}

export interface EmailContent {
  /** The arguments of the template's messages (`app` is added from the brand or APP_NAME). */
  values?: MessageValues;
  /** The code, shown large where the body says `code`. */
  code?: string;
  /** A notice's facts; `when` is an ISO timestamp, shown in the reader's language, in UTC. */
  facts?: Partial<Record<FactName, string>>;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/** A time as a reader anywhere can place it: their language's date, to the minute, in UTC. */
export function factTime(at: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'UTC',
    hourCycle: 'h23',
  })
    .format(new Date(at))
    .concat(' UTC');
}

type Part = { kind: 'paragraph' | 'small' | 'code'; text: string } | { kind: 'facts'; lines: string[] };

function htmlOf(parts: readonly Part[], brand: Brand, subject: string, locale: string, productName: string): string {
  const { colors } = brand;
  const paragraph = (text: string) => `<p style="margin:0 0 16px">${escapeHtml(text)}</p>`;
  const body = parts.map((part) => {
    switch (part.kind) {
      case 'paragraph':
        return paragraph(part.text);
      case 'small':
        return `<p style="margin:0;color:${colors.muted};font-size:13px">${escapeHtml(part.text)}</p>`;
      case 'code':
        return `<p style="margin:0 0 16px;font-size:32px;font-weight:bold;letter-spacing:6px;font-family:monospace;color:${colors.accent}">${escapeHtml(part.text)}</p>`;
      default:
        return `<ul style="margin:0 0 16px">${part.lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
    }
  });
  const logo =
    brand.logoUrl === undefined
      ? []
      : [
          `<p style="margin:0 0 24px"><img src="${escapeHtml(brand.logoUrl)}" alt="${escapeHtml(brand.logoAlt ?? productName)}" style="max-height:48px;border:0"></p>`,
        ];
  return [
    '<!doctype html>',
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:${colors.background}">`,
    `<div style="max-width:560px;margin:0 auto;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:${colors.text}">`,
    ...logo,
    ...body,
    '</div>',
    '</body></html>',
  ].join('\n');
}

function textOf(parts: readonly Part[]): string {
  return `${parts.map((part) => (part.kind === 'facts' ? part.lines.join('\n') : part.text)).join('\n\n')}\n`;
}

/**
 * One email of the catalogue in `locale` (a catalogue locale: resolve it first): the subject, and
 * the body's blocks in the order its spec gives, as plain text and as HTML in the brand's look.
 * The HTML escapes everything it shows, wording and values alike.
 */
export function renderEmail(
  catalogue: Catalogue,
  template: EmailTemplate,
  locale: string,
  productName: string,
  content: EmailContent,
): RenderedEmail {
  const spec = EMAIL_TEMPLATES[template];
  const file = catalogue.email(template, locale);
  const values = { ...content.values, app: productName };
  const labels = catalogue.noticeFacts(locale);
  const label = (key: string) => formatKey(labels, key, {}).join(' ');
  const parts = (spec.body as readonly EmailBlock[]).flatMap((block): Part[] => {
    if (block === 'code') return [{ kind: 'code', text: content.code ?? '' }];
    if (block === 'facts') {
      const facts: readonly FactName[] = ('facts' in spec ? spec.facts : undefined) ?? [];
      const lines = facts.map((name) => {
        const value = content.facts?.[name];
        const shown = value === undefined ? label('unknown') : name === 'when' ? factTime(value, locale) : value;
        return formatKey(labels, 'line', { label: label(name), value: shown }).join(' ');
      });
      return [{ kind: 'facts', lines }];
    }
    const [kind, key] =
      'paragraph' in block ? (['paragraph', block.paragraph] as const) : (['small', block.small] as const);
    return formatKey(file, key, values).map((text) => ({ kind, text }));
  });
  const subject = formatKey(file, 'subject', values).join(' ');
  return { subject, text: textOf(parts), html: htmlOf(parts, catalogue.brand, subject, locale, productName), locale };
}
