import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// Where SMS may go, and the keys SMS are counted under. The recipient is always a number that
// `normalizePhone` accepted (E.164); libphonenumber's full metadata (`/max`) tells its region and
// its type, from the number plan of each country.

/** The number types libphonenumber tells apart (`PhoneNumber.getType()`). */
export const PHONE_NUMBER_TYPES = [
  'MOBILE',
  'FIXED_LINE',
  'FIXED_LINE_OR_MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;
export type PhoneNumberType = (typeof PHONE_NUMBER_TYPES)[number];

/**
 * Country calling codes of no country (ITU "global services"): +800 and +808 (international
 * freephone and shared cost), +870 (Inmarsat), +878 (universal personal numbers), +881 (global
 * mobile satellite: Iridium, Globalstar...), +882 and +883 (international networks), +888 (OCHA)
 * and +979 (international premium rate). `SMS_ALLOWED_COUNTRIES=*` does not include them.
 */
export const NON_GEOGRAPHIC_CALLING_CODES = ['800', '808', '870', '878', '881', '882', '883', '888', '979'] as const;

/** The region libphonenumber gives numbers of no country, used as their `country` key. */
export const NON_GEOGRAPHIC_REGION = '001';

export interface SmsRecipientPolicy {
  /** ISO 3166-1 alpha-2 codes, or `*` for every country (never the non-geographic codes). */
  countries: '*' | ReadonlySet<string>;
  types: ReadonlySet<PhoneNumberType>;
  allowNonGeographic: boolean;
}

/** What the SMS defences know of a number: never the number itself. */
export interface SmsDestination {
  /** ISO 3166-1 alpha-2 region, or `001` for a non-geographic number. */
  country: string;
  callingCode: string;
  /** `<calling code>-<first rangeDigits national digits>`, e.g. `44-7700`. */
  range: string;
  /** libphonenumber's type, or undefined when its metadata cannot tell. */
  type: PhoneNumberType | undefined;
  nonGeographic: boolean;
}

/** Why a destination is refused (for metrics and logs; the client is told only `recipient_not_allowed`). */
export type SmsRefusalReason = 'country' | 'number_type' | 'non_geographic';

/** The destination of a normalised (E.164) number. Throws on a number `normalizePhone` would refuse. */
export function smsDestination(e164: string, rangeDigits: number): SmsDestination {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) throw new Error('not a phone number in E.164');
  const callingCode = String(parsed.countryCallingCode);
  const nonGeographic = (NON_GEOGRAPHIC_CALLING_CODES as readonly string[]).includes(callingCode);
  return {
    country: nonGeographic ? NON_GEOGRAPHIC_REGION : (parsed.country ?? NON_GEOGRAPHIC_REGION),
    callingCode,
    range: `${callingCode}-${String(parsed.nationalNumber).slice(0, rangeDigits)}`,
    type: parsed.getType() as PhoneNumberType | undefined,
    nonGeographic,
  };
}

/** Why the policy refuses the destination, or null when SMS may go there. */
export function smsRefusal(policy: SmsRecipientPolicy, destination: SmsDestination): SmsRefusalReason | null {
  if (destination.nonGeographic || destination.country === NON_GEOGRAPHIC_REGION) {
    if (!policy.allowNonGeographic) return 'non_geographic';
  } else if (policy.countries !== '*' && !policy.countries.has(destination.country)) {
    return 'country';
  }
  if (destination.type === undefined || !policy.types.has(destination.type)) return 'number_type';
  return null;
}

const COUNTRY = /^[A-Z]{2}$/;

function listItems(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim().toUpperCase())
    .filter((item) => item !== '');
}

/** `SMS_ALLOWED_COUNTRIES`: `*`, or ISO 3166-1 alpha-2 codes separated by commas. */
export function parseCountryList(value: string): '*' | ReadonlySet<string> {
  if (value.trim() === '*') return '*';
  const items = listItems(value);
  if (items.length === 0) throw new Error('must be * or a comma-separated list of ISO 3166-1 alpha-2 country codes');
  const bad = items.filter((item) => !COUNTRY.test(item));
  if (bad.length > 0) throw new Error(`not ISO 3166-1 alpha-2 country codes: ${bad.join(', ')}`);
  return new Set(items);
}

/** `SMS_ALLOWED_NUMBER_TYPES`: libphonenumber type names separated by commas. */
export function parseNumberTypes(value: string): ReadonlySet<PhoneNumberType> {
  const items = listItems(value);
  if (items.length === 0) throw new Error(`must list at least one of ${PHONE_NUMBER_TYPES.join(', ')}`);
  const bad = items.filter((item) => !(PHONE_NUMBER_TYPES as readonly string[]).includes(item));
  if (bad.length > 0)
    throw new Error(`unknown number types ${bad.join(', ')} (known: ${PHONE_NUMBER_TYPES.join(', ')})`);
  return new Set(items as PhoneNumberType[]);
}

/** `SMS_DAILY_BUDGET_BY_COUNTRY`: `GB:100,US:5000` (empty: no per-country budget). */
export function parseCountryBudgets(value: string): ReadonlyMap<string, number> {
  const budgets = new Map<string, number>();
  for (const item of listItems(value)) {
    const match = /^([A-Z]{2}|001):(\d{1,9})$/.exec(item);
    if (match === null) throw new Error(`"${item}" is not COUNTRY:COUNT (e.g. GB:100)`);
    const [, country, count] = match as unknown as [string, string, string];
    if (budgets.has(country)) throw new Error(`${country} is given twice`);
    budgets.set(country, Number.parseInt(count, 10));
  }
  return budgets;
}
