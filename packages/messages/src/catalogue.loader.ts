import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@otp/domain';
import { type Brand, mergeBrand, parseBrand } from './brand.ts';
import {
  EMAIL_TEMPLATES,
  type EmailTemplate,
  type FileSpec,
  NOTICE_FACTS_SPEC,
  SMS_TEMPLATES,
  type SmsTemplate,
} from './catalogue.spec.ts';
import { isCanonicalLocale, matchLocale, requestedLocales } from './locale.ts';
import { CatalogueError, type CompiledFile, compileFile } from './message.compile.ts';

/** The catalogue this package ships: catalogue/<locale>/{email,sms}/<template>.json and brand.json. */
export const SHIPPED_DIR = fileURLToPath(new URL('../catalogue/', import.meta.url));

/** How many distinct tags `localeOf` keeps the answer of. */
const MAX_CACHED_TAGS = 256;

const NOTICE_FACTS = 'notice-facts';
const FILES: Record<'email' | 'sms', ReadonlyMap<string, FileSpec>> = {
  email: new Map<string, FileSpec>([...Object.entries(EMAIL_TEMPLATES), [NOTICE_FACTS, NOTICE_FACTS_SPEC]]),
  sms: new Map<string, FileSpec>(Object.entries(SMS_TEMPLATES)),
};
type Channel = keyof typeof FILES;

export interface CatalogueOptions {
  /** The operator's folder (TEMPLATES_DIR): any file in it replaces the shipped one; new locales add. */
  templatesDir?: string | undefined;
  /** The locale of last resort (DEFAULT_LOCALE); it must be in the catalogue. */
  defaultLocale: string;
}

/** Every message of every locale, checked, and the brand: read once at start. */
export interface Catalogue {
  readonly locales: readonly string[];
  readonly defaultLocale: string;
  readonly brand: Brand;
  /** The catalogue locale for the locales asked for, best first (see matchLocale). */
  resolve(requested: readonly string[]): string;
  /**
   * The catalogue locale for one stored tag (a job's, a challenge's, an account's), which may
   * come from an earlier release or a catalogue that has changed since; none or a malformed one
   * gets DEFAULT_LOCALE.
   */
  localeOf(tag: string | null | undefined): string;
  email(template: EmailTemplate, locale: string): CompiledFile;
  noticeFacts(locale: string): CompiledFile;
  sms(template: SmsTemplate, locale: string): CompiledFile;
  /** The file a template of a locale was read from (an operator's, the shipped one, or its language's). */
  file(channel: Channel, template: string, locale: string): string;
}

const readable = (path: string) => existsSync(path) && statSync(path).isFile();

/** An operator's folder must hold only what the catalogue knows: a typo would otherwise go unnoticed. */
function checkLayout(root: string): string[] {
  const locales: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    if (entry.isFile() && entry.name === 'brand.json') continue;
    if (!entry.isDirectory() || !isCanonicalLocale(entry.name)) {
      throw new CatalogueError(path, 'not a locale folder (a BCP 47 tag such as de or pt-BR) nor brand.json');
    }
    locales.push(entry.name);
    for (const channel of readdirSync(path, { withFileTypes: true })) {
      if (channel.name.startsWith('.')) continue;
      const channelPath = join(path, channel.name);
      const files = FILES[channel.name as Channel];
      if (!channel.isDirectory() || files === undefined) {
        throw new CatalogueError(channelPath, 'a locale folder holds only email/ and sms/');
      }
      for (const file of readdirSync(channelPath)) {
        if (file.startsWith('.')) continue;
        if (!files.has(file.replace(/\.json$/, '')) || !file.endsWith('.json')) {
          throw new CatalogueError(
            join(channelPath, file),
            `unknown template (the ${channel.name} templates: ${[...files.keys()].join(', ')})`,
          );
        }
      }
    }
  }
  return locales;
}

/**
 * Reads and checks the whole catalogue: the shipped files with the operator's laid over them.
 * A locale with a region (`de-AT`) may hold only some files: the rest come from its language
 * (`de`). Anything missing, unknown or malformed throws a CatalogueError naming the file, so a
 * service never starts with a message it cannot send.
 */
export function loadCatalogue(options: CatalogueOptions): Catalogue {
  const override = options.templatesDir === undefined ? undefined : resolve(options.templatesDir);
  if (override !== undefined && !(existsSync(override) && statSync(override).isDirectory())) {
    throw new ConfigError([`TEMPLATES_DIR: ${override} is not a folder`]);
  }
  const roots = override === undefined ? [SHIPPED_DIR] : [override, SHIPPED_DIR];
  const locales = [...new Set(roots.flatMap(checkLayout))].sort();

  const fileOf = (channel: Channel, template: string, locale: string): string => {
    const language = new Intl.Locale(locale).language;
    const candidates = language !== locale && locales.includes(language) ? [locale, language] : [locale];
    for (const candidate of candidates) {
      for (const root of roots) {
        const path = join(root, candidate, channel, `${template}.json`);
        if (readable(path)) return path;
      }
    }
    throw new CatalogueError(join(roots[0] ?? SHIPPED_DIR, locale, channel, `${template}.json`), 'missing');
  };

  const compiled = new Map<string, { path: string; file: CompiledFile }>();
  for (const locale of locales) {
    for (const [channel, files] of Object.entries(FILES) as Array<[Channel, ReadonlyMap<string, FileSpec>]>) {
      for (const [template, spec] of files) {
        const path = fileOf(channel, template, locale);
        compiled.set(`${locale}/${channel}/${template}`, {
          path,
          file: compileFile(path, readFileSync(path, 'utf8'), locale, spec),
        });
      }
    }
  }
  if (!locales.includes(options.defaultLocale)) {
    throw new ConfigError([
      `DEFAULT_LOCALE: ${options.defaultLocale} has no catalogue (locales: ${locales.join(', ')})`,
    ]);
  }

  const shippedBrand = parseBrand(
    join(SHIPPED_DIR, 'brand.json'),
    readFileSync(join(SHIPPED_DIR, 'brand.json'), 'utf8'),
  );
  const brandPath = override === undefined ? undefined : join(override, 'brand.json');
  const brand = mergeBrand(
    shippedBrand,
    brandPath !== undefined && readable(brandPath) ? parseBrand(brandPath, readFileSync(brandPath, 'utf8')) : undefined,
  );

  // localeOf runs once per message a worker sends; the answer for a tag never changes (the
  // catalogue is loaded once), so it is kept, for a bounded number of tags: the tags come from
  // requests, and an unbounded map would grow with whatever clients send.
  const localeOfTag = new Map<string, string>();
  const get = (channel: Channel, template: string, locale: string) => {
    const entry = compiled.get(`${locale}/${channel}/${template}`);
    if (entry === undefined)
      throw new Error(`no ${channel} template ${template} in ${locale}: resolve the locale first`);
    return entry;
  };
  return {
    locales,
    defaultLocale: options.defaultLocale,
    brand,
    resolve: (requested) => matchLocale(requested, locales, options.defaultLocale),
    localeOf: (tag) => {
      // null and undefined share a key no tag can be (a tag has no NUL).
      const key = tag ?? '\u0000';
      const known = localeOfTag.get(key);
      if (known !== undefined) return known;
      const locale = matchLocale(requestedLocales(tag ?? undefined, undefined), locales, options.defaultLocale);
      if (localeOfTag.size < MAX_CACHED_TAGS) localeOfTag.set(key, locale);
      return locale;
    },
    email: (template, locale) => get('email', template, locale).file,
    noticeFacts: (locale) => get('email', NOTICE_FACTS, locale).file,
    sms: (template, locale) => get('sms', template, locale).file,
    file: (channel, template, locale) => get(channel, template, locale).path,
  };
}
