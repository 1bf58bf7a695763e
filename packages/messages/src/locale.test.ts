import { describe, expect, it } from 'vitest';
import { escapeHtml } from './email.render.ts';
import { matchLocale, requestedLocales } from './locale.ts';

const shipped = ['de', 'en', 'es', 'fr', 'pt-BR'];

describe('the locale of a message', () => {
  it("takes the request's locale, else its Accept-Language in order of preference", () => {
    expect(requestedLocales('pt', 'de')).toEqual(['pt']);
    expect(requestedLocales(undefined, 'fr;q=0.5, de-CH, en;q=0.1')).toEqual(['de-CH', 'fr', 'en']);
    expect(requestedLocales(undefined, undefined)).toEqual([]);
  });

  it('drops a wildcard and what is not a locale tag, without failing', () => {
    expect(requestedLocales(undefined, '*, 1234-x, ;;;,q=abc, de')).toEqual(['de']);
    expect(requestedLocales('not a tag', undefined)).toEqual([]);
  });

  it('reads only the head of a long header: a few languages, as browsers send', () => {
    const long = ['fr', ...Array.from({ length: 2000 }, (_, i) => `de-${String(i).padStart(4, '0')}`)].join(', ');
    const wanted = requestedLocales(undefined, long);
    expect(wanted[0]).toBe('fr');
    expect(wanted.length).toBeLessThanOrEqual(8);
    expect(matchLocale(['not-a-real-tag-at-all'], shipped, 'en')).toBe('en');
  });

  it('falls back along the chain: region to language, language to its variant, else the default', () => {
    expect(matchLocale(['de-CH'], shipped, 'en')).toBe('de');
    expect(matchLocale(['pt-BR'], shipped, 'en')).toBe('pt-BR');
    expect(matchLocale(['pt'], shipped, 'en')).toBe('pt-BR');
    expect(matchLocale(['pt-PT'], shipped, 'en')).toBe('pt-BR');
    expect(matchLocale(['it', 'fr'], shipped, 'en')).toBe('fr');
    expect(matchLocale(['xx'], shipped, 'en')).toBe('en');
    expect(matchLocale(['ja'], shipped, 'de')).toBe('de');
    expect(matchLocale([], shipped, 'fr')).toBe('fr');
  });
});

describe('escapeHtml', () => {
  it('escapes the characters that open markup or attributes', () => {
    expect(escapeHtml(`<b a="1">Tom & 'Jerry'</b>`)).toBe(
      '&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;',
    );
  });
});
