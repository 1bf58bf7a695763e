// `pnpm check:messages`: spell-checks the wording of every shipped locale of @otp/messages with
// hunspell. It takes the literal text of every message (the ICU syntax stripped, the text inside
// select and plural options kept), checks each word against the locale's dictionary, and exits 1
// listing every unknown word with the files it is in, unless the allowlist below names it. A
// machine without hunspell or a dictionary fails, naming the Debian package to install: a check
// that cannot run must not pass.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isLiteralElement,
  isPluralElement,
  isSelectElement,
  type MessageFormatElement,
  parse,
} from '@formatjs/icu-messageformat-parser';
import { loadCatalogue, SHIPPED_DIR } from '@otp/messages';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The hunspell dictionary of each shipped locale, and the Debian package that installs it. */
const DICTIONARIES: Record<string, { dictionary: string; debian: string }> = {
  en: { dictionary: 'en_US', debian: 'hunspell-en-us' },
  de: { dictionary: 'de_DE', debian: 'hunspell-de-de' },
  fr: { dictionary: 'fr_FR', debian: 'hunspell-fr' },
  es: { dictionary: 'es_ES', debian: 'hunspell-es' },
  'pt-BR': { dictionary: 'pt_BR', debian: 'hunspell-pt-br' },
};

/**
 * Words the dictionaries do not know but the wording means, per locale: keep it short, and say
 * why. A misspelling never belongs here: fix the catalogue instead.
 */
const ALLOWED: Record<string, readonly string[]> = {
  en: [
    'HOTP', // the hardware token's standard (RFC 4226), named in factor-changed
    'recognise', // the English catalogue is in British spelling; the dictionary is en_US
  ],
  de: [
    'HOTP',
    'App', // in the Duden since 2012; the Debian de_DE word list is older
    'Authenticator-App', // the usual German name of TOTP apps (Google and Microsoft call theirs so)
    'Authenticator-Apps',
  ],
  fr: ['HOTP'],
  es: [
    'HOTP',
    'token', // "token físico": the word Spanish-speaking banks and services use for a hardware token
    'tokens',
  ],
  'pt-BR': [
    'HOTP',
    'app', // "app"/"apps": what Brazilian products call an application (aplicativo)
    'apps',
    'token', // "token físico": the word Brazilian banks use for a hardware token
    'tokens',
  ],
};

function fail(message: string): never {
  console.error(`check-messages: ${message}`);
  process.exit(1);
}

/** The literal text of a message: its words, without arguments, and every option of its selects and plurals. */
function literals(elements: readonly MessageFormatElement[]): string[] {
  return elements.flatMap((element) => {
    if (isLiteralElement(element)) return [element.value];
    if (isSelectElement(element) || isPluralElement(element)) {
      return Object.values(element.options).flatMap((option) => literals(option.value));
    }
    return [];
  });
}

/** Every message of a catalogue file: a key's value is a message or a list of them. */
function messagesOf(path: string): string[] {
  const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string | string[]>;
  return Object.values(file).flat();
}

/**
 * A text's words, hyphenated and elided ones whole ("E-Mail-Adresse", "d’authentification",
 * "redefini-la"): hunspell's own splitting (-l) cuts every word at a hyphen when the dictionary
 * does not declare it a word character, and pt_BR does not, so "e-mail" would come out as "mail".
 */
const words = (text: string) => text.match(/[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu) ?? [];

/** The words hunspell does not know in a dictionary, each checked whole (-w: one word a line). */
function unknownWords(dictionary: string, debian: string, candidates: readonly string[]): string[] {
  const run = spawnSync('hunspell', ['-d', dictionary, '-w'], { input: candidates.join('\n'), encoding: 'utf8' });
  if (run.error !== undefined) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    fail(
      missing
        ? `hunspell is not installed: apt-get install hunspell ${Object.values(DICTIONARIES)
            .map((d) => d.debian)
            .join(' ')}`
        : `hunspell could not run (${run.error.message})`,
    );
  }
  if (run.status !== 0 || /can't open/i.test(run.stderr)) {
    fail(`hunspell has no ${dictionary} dictionary (${run.stderr.trim()}): apt-get install ${debian}`);
  }
  return run.stdout.split('\n').filter((line) => line !== '');
}

const locales = loadCatalogue({ defaultLocale: 'en' }).locales;
let problems = 0;
let checked = 0;
for (const locale of locales) {
  const dictionary = DICTIONARIES[locale];
  if (dictionary === undefined) {
    fail(`no hunspell dictionary for the locale ${locale}: add it to DICTIONARIES in scripts/check-messages.ts`);
  }
  // Each word, with the files it is in.
  const where = new Map<string, Set<string>>();
  for (const channel of ['email', 'sms']) {
    const folder = join(SHIPPED_DIR, locale, channel);
    for (const name of readdirSync(folder).filter((file) => file.endsWith('.json'))) {
      const path = join(folder, name);
      for (const message of messagesOf(path)) {
        for (const word of words(literals(parse(message, { ignoreTag: true })).join(' '))) {
          where.set(word, (where.get(word) ?? new Set()).add(relative(ROOT, path)));
        }
      }
    }
  }
  const allowed = new Set(ALLOWED[locale] ?? []);
  const flagged = unknownWords(dictionary.dictionary, dictionary.debian, [...where.keys()]);
  const unknown = flagged.filter((word) => !allowed.has(word));
  checked += where.size;
  if (unknown.length > 0) {
    problems += unknown.length;
    console.error(`${locale} (${dictionary.dictionary}): ${unknown.length} unknown words`);
    for (const word of unknown.sort()) console.error(`  ${word}  in ${[...(where.get(word) ?? [])].join(', ')}`);
  }
  // An allowed word no message uses, or one the dictionary knows after all, only hides mistakes.
  const unneeded = [...allowed].filter((word) => !flagged.includes(word));
  if (unneeded.length > 0) {
    problems += unneeded.length;
    console.error(
      `${locale}: the allowlist needs no ${unneeded.join(', ')} (unused, or known to ${dictionary.dictionary})`,
    );
  }
}
if (problems > 0) {
  fail(`${problems} problems: fix the spelling, or allow a word in scripts/check-messages.ts if it is right`);
}
console.log(`check-messages: ${checked} distinct words of ${locales.join(', ')} are spelt as their dictionaries know`);
