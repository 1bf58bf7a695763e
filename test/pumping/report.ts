import type { FakeSms } from '@otp/testkit';
import type { Entry } from './bot.ts';
import { countryOf } from './numbers.ts';

// The simulation's table: one column per allowed country and per kind of number SMS must never go
// to, one row per outcome, and what the provider was handed.

const REFUSALS = [
  'recipient_not_allowed',
  'sms_range_limited',
  'sms_country_limited',
  'sms_budget_exhausted',
  'channel_suspended',
  'captcha_required',
  'captcha_failed',
];

function column(entry: Pick<Entry, 'number' | 'country'>): string {
  if (entry.number === 'mobile') return entry.country;
  if (entry.number === 'premium rate' || entry.number === 'toll free') return 'premium/toll-free';
  if (entry.number === 'satellite or global') return 'satellite/global';
  return 'other countries';
}

/** The table as Markdown, ready to paste into docs/sms-fraud.md. */
export function reportTable(entries: Entry[], handed: FakeSms[], countries: string[]): string {
  const columns = [...countries, 'premium/toll-free', 'satellite/global', 'other countries', 'total'];
  const cell = (rows: Array<Pick<Entry, 'number' | 'country'>>, name: string) =>
    name === 'total' ? rows.length : rows.filter((row) => column(row) === name).length;
  const seen = new Set(entries.map((entry) => entry.outcome));
  const others = [...seen].filter((outcome) => outcome !== 'accepted' && !REFUSALS.includes(outcome));
  const rows: Array<[string, Array<Pick<Entry, 'number' | 'country'>>]> = [
    ['SMS requested (requests and resends)', entries],
    ...[...REFUSALS, ...others]
      .filter((outcome) => seen.has(outcome))
      .map((outcome): [string, Entry[]] => [
        `refused: ${outcome}`,
        entries.filter((entry) => entry.outcome === outcome),
      ]),
    ['accepted (202)', entries.filter((entry) => entry.status === 202)],
    [
      'handed to the provider',
      handed.map((sms) => ({
        country: countryOf(sms.to),
        // The provider only ever sees numbers: attribute each to its entry's column.
        number: entries.find((entry) => entry.to === sms.to)?.number ?? 'mobile',
      })),
    ],
  ];
  const table = [
    ['', ...columns],
    ...rows.map(([label, list]) => [label, ...columns.map((name) => String(cell(list, name)))]),
  ];
  const widths = table[0]?.map((_, index) => Math.max(3, ...table.map((row) => (row[index] ?? '').length))) ?? [];
  const line = (row: string[]) => `| ${row.map((text, index) => text.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  return [line(table[0] ?? []), line(widths.map((width) => '-'.repeat(width))), ...table.slice(1).map(line)].join('\n');
}
