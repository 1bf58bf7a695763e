import { describe, expect, it } from 'vitest';
import { normalizePhone } from './recipient.ts';
import {
  NON_GEOGRAPHIC_REGION,
  parseCountryBudgets,
  parseCountryList,
  parseNumberTypes,
  type SmsRecipientPolicy,
  smsDestination,
  smsRefusal,
} from './sms-policy.ts';

const policy = (countries: string, extra: Partial<SmsRecipientPolicy> = {}): SmsRecipientPolicy => ({
  countries: parseCountryList(countries),
  types: parseNumberTypes('MOBILE,FIXED_LINE_OR_MOBILE'),
  allowNonGeographic: false,
  ...extra,
});

const refusal = (number: string, rules: SmsRecipientPolicy) =>
  smsRefusal(rules, smsDestination(normalizePhone(number), 4));

describe('where SMS may go', () => {
  it('gives a number its country, range and type, never more of the number than the range', () => {
    expect(smsDestination('+447911123456', 4)).toEqual({
      country: 'GG',
      callingCode: '44',
      range: '44-7911',
      type: 'MOBILE',
      nonGeographic: false,
    });
    expect(smsDestination('+14155552671', 4)).toMatchObject({
      country: 'US',
      range: '1-4155',
      type: 'FIXED_LINE_OR_MOBILE',
    });
    expect(smsDestination('+33612345678', 2).range).toBe('33-61');
    expect(smsDestination('+881632000000', 4)).toMatchObject({ country: NON_GEOGRAPHIC_REGION, nonGeographic: true });
  });

  it('refuses countries off the list, and * allows every country', () => {
    expect(refusal('+33612345678', policy('GB,FR'))).toBeNull();
    expect(refusal('+4915112345678', policy('GB,FR'))).toBe('country');
    expect(refusal('+4915112345678', policy('*'))).toBeNull();
    expect(refusal('+14155552671', policy('us'))).toBeNull();
  });

  it('refuses premium-rate, toll-free, personal and fixed-line numbers by default', () => {
    expect(refusal('+449098790123', policy('*'))).toBe('number_type'); // UK premium rate
    expect(refusal('+18005550100', policy('*'))).toBe('number_type'); // US toll free
    expect(refusal('+15005550006', policy('*'))).toBe('number_type'); // US personal number (500)
    expect(refusal('+442079460000', policy('*'))).toBe('number_type'); // London fixed line
    expect(refusal('+442079460000', policy('*', { types: parseNumberTypes('FIXED_LINE') }))).toBeNull();
  });

  it('refuses non-geographic numbers even with *, unless they are allowed', () => {
    for (const number of ['+881632000000', '+870773111632', '+80012345678']) {
      expect(refusal(number, policy('*'))).toBe('non_geographic');
    }
    expect(refusal('+881632000000', policy('GB', { allowNonGeographic: true }))).toBeNull();
    // Allowed as non-geographic, a freephone number is still refused by its type.
    expect(refusal('+80012345678', policy('*', { allowNonGeographic: true }))).toBe('number_type');
  });

  it('reads the settings strictly, naming what is wrong', () => {
    expect(parseCountryList(' gb , FR ')).toEqual(new Set(['GB', 'FR']));
    expect(() => parseCountryList('GBR')).toThrow(/GBR/);
    expect(() => parseCountryList(',')).toThrow(/ISO 3166-1/);
    expect(() => parseNumberTypes('MOBILE,CELL')).toThrow(/CELL/);
    expect(parseCountryBudgets('GB:100, us:5000')).toEqual(
      new Map([
        ['GB', 100],
        ['US', 5000],
      ]),
    );
    expect(parseCountryBudgets('')).toEqual(new Map());
    expect(() => parseCountryBudgets('GB=100')).toThrow(/GB=100/);
    expect(() => parseCountryBudgets('GB:1,GB:2')).toThrow(/twice/);
  });
});
