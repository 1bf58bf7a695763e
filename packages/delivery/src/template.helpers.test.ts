import { describe, expect, it } from 'vitest';
import { escapeHtml, minutesValid, pickLocale } from './template.helpers.ts';

describe('minutesValid', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('rounds up to whole minutes and never says 0', () => {
    expect(minutesValid(new Date('2026-01-01T00:10:00Z'), now)).toBe(10);
    expect(minutesValid(new Date('2026-01-01T00:09:01Z'), now)).toBe(10);
    expect(minutesValid(new Date('2026-01-01T00:00:20Z'), now)).toBe(1);
    expect(minutesValid(new Date('2025-12-31T23:59:00Z'), now)).toBe(1);
  });
});

describe('pickLocale', () => {
  const strings = { en: 'hello', fr: 'bonjour' };
  it('uses the language of the locale, English when unknown', () => {
    expect(pickLocale('fr-CA', strings)).toBe('bonjour');
    expect(pickLocale('FR', strings)).toBe('bonjour');
    expect(pickLocale('de-DE', strings)).toBe('hello');
    expect(pickLocale('', strings)).toBe('hello');
  });
});

describe('escapeHtml', () => {
  it('escapes the characters that open markup or attributes', () => {
    expect(escapeHtml(`<b a="1">Tom & 'Jerry'</b>`)).toBe(
      '&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;',
    );
  });
});
