import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@otp/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogue, SHIPPED_DIR } from './catalogue.loader.ts';
import { renderEmail } from './email.render.ts';
import { CatalogueError } from './message.compile.ts';
import { catalogueFromConfig } from './message.config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An operator's TEMPLATES_DIR holding the given files (path → content). */
function templatesDir(files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'templates-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const englishOtp = {
  subject: 'Your {app} code',
  intro: 'Here is your {app} code:',
  expires: 'It works for {minutes, plural, one {# minute} other {# minutes}}.',
  neverShare: 'Keep it to yourself.',
  ignore: 'Not you? Ignore this.',
};

function loadingFails(files: Record<string, string | object>): CatalogueError {
  const dir = templatesDir(files);
  try {
    loadCatalogue({ templatesDir: dir, defaultLocale: 'en' });
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogueError);
    return error as CatalogueError;
  }
  throw new Error('the catalogue loaded');
}

describe('the message catalogue', () => {
  it('loads the shipped catalogue, every locale complete', () => {
    const catalogue = loadCatalogue({ defaultLocale: 'en' });
    expect(catalogue.locales).toContain('en');
    expect(catalogue.file('email', 'otp-code', 'en')).toBe(join(SHIPPED_DIR, 'en', 'email', 'otp-code.json'));
  });

  it('matches a tag to a locale the same way on every call (the answer is kept per tag)', () => {
    const catalogue = loadCatalogue({ defaultLocale: 'en' });
    for (let round = 0; round < 2; round += 1) {
      expect(catalogue.localeOf('de-CH')).toBe('de');
      expect(catalogue.localeOf('pt-BR')).toBe('pt-BR');
      expect(catalogue.localeOf('xx')).toBe('en');
      expect(catalogue.localeOf(null)).toBe('en');
      expect(catalogue.localeOf(undefined)).toBe('en');
    }
    // Past the tags it keeps, still answered.
    for (let i = 0; i < 300; i += 1) expect(catalogue.localeOf(`de-x-t${i}`)).toBe('de');
    expect(catalogue.localeOf('fr-CA')).toBe('fr');
  });

  it("uses an operator's file in place of the shipped one, and their brand", () => {
    const dir = templatesDir({
      'en/email/otp-code.json': englishOtp,
      'brand.json': { productName: 'Acme', logoUrl: 'https://acme.test/logo.png', colors: { accent: '#ff0066' } },
    });
    const catalogue = loadCatalogue({ templatesDir: dir, defaultLocale: 'en' });
    expect(catalogue.file('email', 'otp-code', 'en')).toBe(join(dir, 'en', 'email', 'otp-code.json'));
    // The other files are still the shipped ones.
    expect(catalogue.file('email', 'account-exists', 'en')).toBe(
      join(SHIPPED_DIR, 'en', 'email', 'account-exists.json'),
    );
    const message = renderEmail(catalogue, 'otp-code', 'en', 'Acme', {
      code: '123456',
      values: { purpose: 'login', minutes: 5 },
    });
    expect(message.subject).toBe('Your Acme code');
    expect(message.text).toContain('It works for 5 minutes.');
    expect(message.html).toContain('<img src="https://acme.test/logo.png" alt="Acme"');
    expect(message.html).toContain('color:#ff0066');
    // Colours not named keep the shipped ones.
    expect(message.html).toContain('background:#ffffff');
  });

  it('adds a locale from an operator folder; a regional one may hold only some files, the rest from its language', () => {
    const dir = templatesDir({ 'en-GB/email/otp-code.json': { ...englishOtp, subject: 'Your {app} code, innit' } });
    // A copy of the shipped English as a second language of its own, complete.
    cpSync(join(SHIPPED_DIR, 'en'), join(dir, 'nl'), { recursive: true });
    const catalogue = loadCatalogue({ templatesDir: dir, defaultLocale: 'en' });
    expect(catalogue.locales).toEqual(expect.arrayContaining(['en', 'en-GB', 'nl']));
    expect(catalogue.resolve(['en-GB'])).toBe('en-GB');
    expect(catalogue.file('email', 'account-exists', 'en-GB')).toBe(
      join(SHIPPED_DIR, 'en', 'email', 'account-exists.json'),
    );
    const subject = renderEmail(catalogue, 'otp-code', 'en-GB', 'Acme', {
      values: { purpose: 'login', minutes: 1 },
    }).subject;
    expect(subject).toBe('Your Acme code, innit');
  });

  it('stops at a locale without a language to fall back on that misses a file, naming the file', () => {
    const error = loadingFails({ 'it/email/otp-code.json': englishOtp });
    expect(error.file).toMatch(/it\/email\/account-exists\.json$/);
    expect(error.message).toContain('missing');
  });

  it('stops at a missing key, an unknown key, bad JSON, naming the file and the key', () => {
    const { ignore: _, ...withoutIgnore } = englishOtp;
    expect(loadingFails({ 'en/email/otp-code.json': withoutIgnore }).message).toMatch(
      /en\/email\/otp-code\.json: missing key "ignore"$/,
    );
    expect(loadingFails({ 'en/email/otp-code.json': { ...englishOtp, footer: 'x' } }).message).toContain(
      'unknown key "footer"',
    );
    expect(loadingFails({ 'en/email/otp-code.json': '{"subject": ' }).message).toMatch(
      /otp-code\.json: not valid JSON/,
    );
    expect(loadingFails({ 'en/sms/otp-code.json': { body: ['', 'x'] } }).message).toContain('"body": empty message');
  });

  it('stops at a bad ICU message, an unknown argument, a select value that does not exist, a date or a tag', () => {
    const bad = (subject: string) => loadingFails({ 'en/email/otp-code.json': { ...englishOtp, subject } }).message;
    expect(bad('Your {app code')).toContain('"subject": not a valid ICU message');
    expect(bad('Your {product} code')).toContain(
      'unknown argument {product} (this message may use app, purpose, minutes)',
    );
    expect(bad('{purpose, select, login {Sign in} verify {Verify} other {Code}}')).toContain(
      '{purpose, select} has no value "verify"',
    );
    expect(bad('{purpose, select, login {Sign in}}')).toContain('not a valid ICU message');
    expect(bad('{app, plural, one {#} other {#}}')).toContain('{app} is not a number');
    expect(bad('Code of {minutes, date, short}')).toContain('cannot be a date or time');
    expect(bad('Your <b>{app}</b> code')).toContain('a tag <b> is not allowed');
  });

  it('stops at a folder or a file it does not know, so a typo is not ignored', () => {
    expect(loadingFails({ 'english/email/otp-code.json': englishOtp }).message).toContain('not a locale folder');
    expect(loadingFails({ 'pt-br/email/otp-code.json': englishOtp }).message).toContain('not a locale folder');
    expect(loadingFails({ 'en/email/otp_code.json': englishOtp }).message).toContain('unknown template');
    expect(loadingFails({ 'en/push/otp-code.json': englishOtp }).message).toContain('holds only email/ and sms/');
  });

  it('stops at a brand that could inject markup or CSS', () => {
    expect(loadingFails({ 'brand.json': { colors: { accent: 'red;background:url(x)' } } }).message).toMatch(
      /brand\.json: \/colors\/accent/,
    );
    expect(loadingFails({ 'brand.json': { logoUrl: 'javascript:alert(1)' } }).message).toMatch(
      /brand\.json: \/logoUrl/,
    );
    expect(loadingFails({ 'brand.json': { font: 'Comic Sans' } }).message).toMatch(/brand\.json/);
  });

  it('is a configuration error naming the file, or DEFAULT_LOCALE, when a service reads it', () => {
    const dir = templatesDir({ 'en/email/otp-code.json': { ...englishOtp, subject: '{' } });
    expect(() => catalogueFromConfig({ DEFAULT_LOCALE: 'en', TEMPLATES_DIR: dir })).toThrow(ConfigError);
    expect(() => catalogueFromConfig({ DEFAULT_LOCALE: 'en', TEMPLATES_DIR: dir })).toThrow(/otp-code\.json/);
    expect(() => catalogueFromConfig({ DEFAULT_LOCALE: 'tlh' })).toThrow(/DEFAULT_LOCALE: tlh has no catalogue/);
    expect(() => catalogueFromConfig({ DEFAULT_LOCALE: 'en', TEMPLATES_DIR: join(dir, 'nope') })).toThrow(
      /TEMPLATES_DIR: .* is not a folder/,
    );
  });
});
