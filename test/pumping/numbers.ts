import { type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';

// The numbers the pumping simulation dials. Every one is checked here with libphonenumber's full
// metadata, independently of the gateway: a number meant as a British mobile that is really a
// Guernsey one (+44 7911 12...) would make the simulation prove nothing about Britain. The
// numbers are enumerated, not random, so two runs dial the same ones.

/** The number types SMS_ALLOWED_NUMBER_TYPES lets through by default. */
const MOBILE: ReadonlySet<NumberType> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/** A number range as the SMS defences key it: `<calling code>-<first rangeDigits national digits>`. */
export function rangeOf(e164: string, rangeDigits = 4): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) throw new Error(`${e164} is not a phone number`);
  return `${parsed.countryCallingCode}-${String(parsed.nationalNumber).slice(0, rangeDigits)}`;
}

/** The number's region as libphonenumber sees it (`001`: a number of no country). */
export function countryOf(e164: string): string {
  return parsePhoneNumberFromString(e164)?.country ?? '001';
}

/**
 * Numbers of `length` characters (`+` and digits) starting with `prefix` that are numbers of
 * `accept`'s liking. The suffixes are walked with a stride prime to 10, so they spread over the
 * whole block instead of counting up from 0.
 */
function numbersUnder(prefix: string, length: number, count: number, accept: (e164: string) => boolean): string[] {
  const digits = length - prefix.length;
  const space = 10 ** digits;
  const found: string[] = [];
  for (let step = 0; found.length < count && step < space; step++) {
    const candidate = `${prefix}${String((step * 7_919 + 4_321) % space).padStart(digits, '0')}`;
    if (accept(candidate)) found.push(candidate);
  }
  if (found.length < count) throw new Error(`only ${found.length} numbers under ${prefix} pass the check`);
  return found;
}

/** `count` numbers of one range that are mobiles of `country`, as SMS to it may go. */
export function mobilesInRange(prefix: string, length: number, country: string, count: number): string[] {
  const numbers = numbersUnder(prefix, length, count, (candidate) => {
    const parsed = parsePhoneNumberFromString(candidate);
    return parsed?.country === country && MOBILE.has(parsed.getType() as NumberType);
  });
  const ranges = new Set(numbers.map((number) => rangeOf(number)));
  if (ranges.size !== 1) throw new Error(`${prefix} spans ranges ${[...ranges].join(', ')}: give a longer prefix`);
  return numbers;
}

export interface CountryPlan {
  country: string;
  /** E.164 length of its mobile numbers, `+` included. */
  length: number;
  /** One prefix per range: the calling code and the range's first four national digits. */
  prefixes: string[];
}

/** Eight mobile ranges in each country the simulation allows. */
export const ALLOWED_COUNTRIES: CountryPlan[] = [
  {
    country: 'US',
    length: 12,
    prefixes: ['+14152', '+12125', '+13055', '+16465', '+12015', '+17182', '+13122', '+12062'],
  },
  {
    country: 'GB',
    length: 13,
    prefixes: ['+447400', '+447500', '+447723', '+447890', '+447912', '+447913', '+447440', '+447800'],
  },
  {
    country: 'FR',
    length: 12,
    prefixes: ['+336123', '+336234', '+336345', '+336456', '+336987', '+336111', '+336222', '+336555'],
  },
  {
    country: 'DE',
    length: 14,
    prefixes: ['+491511', '+491521', '+491601', '+491701', '+491711', '+491761', '+491590', '+491575'],
  },
];

/** What a number the gateway must never send to is. */
export type Forbidden = 'premium rate' | 'toll free' | 'satellite or global' | 'country not allowed';

/**
 * Numbers SMS must never go to, each checked to be what it claims: premium-rate and toll-free
 * numbers of allowed countries, satellite and other non-geographic numbers (+870 Inmarsat, +881
 * Iridium, +882 international networks, +979 international premium rate, +800 international
 * freephone), and mobiles of countries not in SMS_ALLOWED_COUNTRIES.
 */
export function forbiddenNumbers(perTemplate: number): Array<{ to: string; kind: Forbidden }> {
  const templates: Array<{ prefix: string; length: number; kind: Forbidden; check: (e164: string) => boolean }> = [];
  const ofType = (type: NumberType, country?: string) => (e164: string) => {
    const parsed = parsePhoneNumberFromString(e164);
    return parsed !== undefined && parsed.getType() === type && (country === undefined || parsed.country === country);
  };
  const nonGeographic = (e164: string) => {
    const parsed = parsePhoneNumberFromString(e164);
    return parsed !== undefined && parsed.country === undefined && parsed.isValid();
  };
  const mobileOf = (country: string) => (e164: string) => {
    const parsed = parsePhoneNumberFromString(e164);
    return parsed?.country === country && MOBILE.has(parsed.getType() as NumberType);
  };
  templates.push(
    { prefix: '+4490987901', length: 13, kind: 'premium rate', check: ofType('PREMIUM_RATE', 'GB') },
    { prefix: '+1900234', length: 12, kind: 'premium rate', check: ofType('PREMIUM_RATE', 'US') },
    { prefix: '+338912345', length: 12, kind: 'premium rate', check: ofType('PREMIUM_RATE', 'FR') },
    { prefix: '+44800123', length: 13, kind: 'toll free', check: ofType('TOLL_FREE', 'GB') },
    { prefix: '+1800234', length: 12, kind: 'toll free', check: ofType('TOLL_FREE', 'US') },
    { prefix: '+49800123', length: 13, kind: 'toll free', check: ofType('TOLL_FREE', 'DE') },
    { prefix: '+8816321', length: 13, kind: 'satellite or global', check: nonGeographic },
    { prefix: '+8707731', length: 13, kind: 'satellite or global', check: nonGeographic },
    { prefix: '+8821310', length: 12, kind: 'satellite or global', check: nonGeographic },
    { prefix: '+9791234', length: 13, kind: 'satellite or global', check: nonGeographic },
    { prefix: '+8001234', length: 12, kind: 'satellite or global', check: nonGeographic },
    { prefix: '+2348031', length: 14, kind: 'country not allowed', check: mobileOf('NG') },
    { prefix: '+79161', length: 12, kind: 'country not allowed', check: mobileOf('RU') },
    { prefix: '+8801712', length: 14, kind: 'country not allowed', check: mobileOf('BD') },
    { prefix: '+639171', length: 13, kind: 'country not allowed', check: mobileOf('PH') },
    { prefix: '+2250701', length: 14, kind: 'country not allowed', check: mobileOf('CI') },
  );
  return templates.flatMap(({ prefix, length, kind, check }) =>
    numbersUnder(prefix, length, perTemplate, check).map((to) => ({ to, kind })),
  );
}
