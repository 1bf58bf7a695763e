// Sections of the hand-written docs that are rendered from a table in the code, so they cannot
// drift from it: between `<!-- generated:<name> -->` and `<!-- /generated:<name> -->`. `pnpm
// docs:generate` fills them; test/docs/generated.test.ts fails while one is out of date.
import {
  DELIVERY_ERROR_CODES,
  DELIVERY_ERROR_FAMILIES,
  DELIVERY_TRANSITIONS,
  type DeliveryTransition,
  ERROR_CODES,
  EVENT_TYPES,
  WEBHOOK_EVENT_TYPES,
  webhookSources,
} from '@otp/domain';
import { code, markdownCell, table, text } from './markdown.ts';

export interface GeneratedSection {
  /** The Markdown file, relative to the repository root. */
  file: string;
  name: string;
  render(): string;
}

function events(): string {
  const rows = Object.entries(EVENT_TYPES).map(([name, entry]) => [
    code(name),
    entry.level,
    entry.audit ? 'yes' : 'no',
    'codeMetric' in entry ? code(entry.codeMetric) : '',
    'notice' in entry ? code(entry.notice) : '',
    markdownCell(entry.description),
  ]);
  return table(['Event', 'Log level', 'Audit row', 'Counted as', 'Notice', 'When'], rows);
}

function webhookEvents(): string {
  const sources = webhookSources();
  const rows = Object.entries(WEBHOOK_EVENT_TYPES).map(([name, entry]) => [
    code(name),
    sources[name as keyof typeof sources].map(code).join(', '),
    markdownCell(entry.description),
  ]);
  return table(['Type', 'Sent by', 'When, and its `data`'], rows);
}

function errorCodes(): string {
  const rows = Object.entries(ERROR_CODES).map(([name, entry]) => [
    code(name),
    String(entry.status),
    text(entry.title),
  ]);
  return table(['`code`', 'Status', 'Title'], rows);
}

function deliveryErrors(): string {
  const entries = [...Object.entries(DELIVERY_ERROR_CODES), ...Object.entries(DELIVERY_ERROR_FAMILIES)];
  return table(
    ['Code', 'Kind', 'When'],
    entries.map(([name, entry]) => [code(name), entry.kind, markdownCell(entry.when)]),
  );
}

function deliveryTransitions(): string {
  const rows = Object.entries(DELIVERY_TRANSITIONS).map(([name, entry]: [string, DeliveryTransition]) => {
    const effects = [
      entry.countsAttempt === true ? 'counts an attempt' : '',
      entry.failsChallenge === true ? 'a pending challenge becomes `failed`' : '',
      entry.reopensChallenge === true ? 'a failed challenge becomes `pending`' : '',
    ].filter((effect) => effect !== '');
    return [code(name), entry.by.join(', '), entry.from.map(code).join(', '), code(entry.to), effects.join('; ')];
  });
  return table(['Transition', 'By', 'From', 'To', 'Also'], rows);
}

export const GENERATED_SECTIONS: readonly GeneratedSection[] = [
  { file: 'docs/accounts-and-factors.md', name: 'events', render: events },
  { file: 'docs/webhooks.md', name: 'webhook-events', render: webhookEvents },
  { file: 'docs/api.md', name: 'error-codes', render: errorCodes },
  { file: 'docs/reliability.md', name: 'delivery-transitions', render: deliveryTransitions },
  { file: 'docs/reliability.md', name: 'delivery-errors', render: deliveryErrors },
];

/** The text with the named section's content replaced; throws when the markers are missing. */
export function fillSection(markdown: string, name: string, content: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = markdown.indexOf(open);
  const end = markdown.indexOf(close);
  if (start === -1 || end < start) throw new Error(`no ${open} … ${close} markers`);
  return `${markdown.slice(0, start + open.length)}\n\n${content}\n${markdown.slice(end)}`;
}
