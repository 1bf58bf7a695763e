import { describe, expect, it } from 'vitest';
import {
  CHANNEL_PROVIDERS,
  KILL_SWITCH_TARGET_FORMS,
  parseKillSwitchTarget,
  switchedOffTarget,
} from './kill-switches.ts';

describe('parseKillSwitchTarget', () => {
  it('takes channels, countries and the providers of this system, in their stored form', () => {
    expect(parseKillSwitchTarget('sms')).toBe('sms');
    expect(parseKillSwitchTarget(' EMAIL ')).toBe('email');
    expect(parseKillSwitchTarget('country:gb')).toBe('country:GB');
    expect(parseKillSwitchTarget('COUNTRY:fr')).toBe('country:FR');
    expect(parseKillSwitchTarget('provider:twilio')).toBe('provider:twilio');
    expect(parseKillSwitchTarget('Provider:SMTP')).toBe('provider:smtp');
  });

  it('takes the providers a chain may fall back to', () => {
    expect(parseKillSwitchTarget('provider:hook')).toBe('provider:hook');
    expect(parseKillSwitchTarget('PROVIDER:Smtp-Fallback')).toBe('provider:smtp-fallback');
    expect(KILL_SWITCH_TARGET_FORMS).toEqual(expect.arrayContaining(['provider:hook', 'provider:smtp-fallback']));
  });

  it('refuses what would switch nothing off: unknown names, countries without a numbering plan', () => {
    for (const target of [
      '',
      'voice',
      'country:',
      'country:GBR',
      'country:UK',
      'country:XX',
      'country:001',
      'provider:vonage',
      'provider:dev-outbox',
      'provider:',
      'twilio',
      'GB',
    ]) {
      expect(parseKillSwitchTarget(target), target).toBeUndefined();
    }
  });
});

describe('switchedOffTarget', () => {
  const off = (...targets: string[]) => new Set(targets);
  const sms = { channel: 'sms' as const, providers: CHANNEL_PROVIDERS.sms };
  const email = { channel: 'email' as const, providers: CHANNEL_PROVIDERS.email };

  it('stops nothing when nothing is off', () => {
    expect(switchedOffTarget(off(), { ...sms, country: 'GB' })).toBeUndefined();
    expect(switchedOffTarget(off(), email)).toBeUndefined();
  });

  it('stops a channel, and only that channel', () => {
    expect(switchedOffTarget(off('sms'), { ...sms, country: 'GB' })).toBe('sms');
    expect(switchedOffTarget(off('sms'), email)).toBeUndefined();
    expect(switchedOffTarget(off('email'), email)).toBe('email');
  });

  it('stops SMS to a country, not to others, and never email', () => {
    expect(switchedOffTarget(off('country:GB'), { ...sms, country: 'GB' })).toBe('country:GB');
    expect(switchedOffTarget(off('country:GB'), { ...sms, country: 'FR' })).toBeUndefined();
    expect(switchedOffTarget(off('country:GB'), { ...sms, country: undefined })).toBeUndefined();
    expect(switchedOffTarget(off('country:GB'), { ...email, country: 'GB' })).toBeUndefined();
  });

  it('stops a send when every provider that could carry it is off', () => {
    expect(switchedOffTarget(off('provider:twilio'), { ...sms, country: 'GB' })).toBe('provider:twilio');
    expect(switchedOffTarget(off('provider:twilio'), email)).toBeUndefined();
    expect(switchedOffTarget(off('provider:smtp'), email)).toBe('provider:smtp');
    // A worker sending to the dev outbox spends nothing: provider:twilio does not stop it.
    expect(switchedOffTarget(off('provider:twilio'), { channel: 'sms', providers: ['dev-outbox'] })).toBeUndefined();
    expect(
      switchedOffTarget(off('provider:twilio'), { channel: 'sms', providers: ['twilio', 'other'] }),
    ).toBeUndefined();
    // A worker's chain: stopped only when each of its providers is off.
    const chain = { channel: 'sms' as const, providers: ['twilio', 'hook'] };
    expect(switchedOffTarget(off('provider:twilio'), chain)).toBeUndefined();
    expect(switchedOffTarget(off('provider:twilio', 'provider:hook'), chain)).toBe('provider:twilio');
  });
});
