import { match } from '@formatjs/intl-localematcher';
import Negotiator from 'negotiator';

const MAX_HEADER_READ = 256;
const MAX_LANGUAGES = 8;

/**
 * The languages a request asks for, best first: its explicit `locale` when it has one, else its
 * `Accept-Language` header in order of preference (q-values), without `*` and malformed tags.
 */
export function requestedLocales(explicit: string | undefined, acceptLanguage: string | undefined): string[] {
  // Browsers send a few languages in well under 100 characters; a header of thousands costs
  // milliseconds of parsing per request for nothing, so only its head is read.
  const wanted =
    explicit !== undefined
      ? [explicit]
      : acceptLanguage === undefined
        ? []
        : new Negotiator({ headers: { 'accept-language': acceptLanguage.slice(0, MAX_HEADER_READ) } })
            .languages()
            .slice(0, MAX_LANGUAGES);
  return wanted.flatMap((tag) => {
    if (tag === '*') return [];
    try {
      return Intl.getCanonicalLocales(tag);
    } catch {
      return [];
    }
  });
}

/**
 * The catalogue locale for what was asked, by the CLDR matching `Intl.LocaleMatcher` specifies
 * ("best fit", the formatjs implementation): a region falls back to its language (`de-CH` → `de`),
 * a language to the catalogue's variant of it (`pt` or `pt-PT` → `pt-BR`), a close language to its
 * neighbour where CLDR says its readers understand it (`gsw` → `de`); anything else to the
 * default, and that is always in the catalogue.
 */
export function matchLocale(requested: readonly string[], available: readonly string[], fallback: string): string {
  if (requested.length === 0) return fallback;
  try {
    return match(requested, available, fallback, { algorithm: 'best fit' });
  } catch {
    // A tag Intl accepts but the matcher cannot place (it throws on those): as if none was asked.
    return fallback;
  }
}

/**
 * Whether a directory name is a locale tag in its canonical spelling (`pt-BR`, not `pt-br`) with
 * an ISO 639 language of two or three letters (`english` is well-formed BCP 47, but no language).
 */
export function isCanonicalLocale(name: string): boolean {
  try {
    return Intl.getCanonicalLocales(name)[0] === name && /^[a-z]{2,3}$/.test(new Intl.Locale(name).language);
  } catch {
    return false;
  }
}
