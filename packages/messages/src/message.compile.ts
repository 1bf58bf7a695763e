import {
  isArgumentElement,
  isDateElement,
  isLiteralElement,
  isNumberElement,
  isPluralElement,
  isPoundElement,
  isSelectElement,
  isTagElement,
  isTimeElement,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import type { ArgumentKind, FileSpec } from './catalogue.spec.ts';

/** A catalogue file that cannot be used: the service stops, naming the file (and the key). */
export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
  }
}

/** A message's arguments as the catalogue receives them. */
export type MessageValues = Readonly<Record<string, string | number>>;

/** One key of a file, compiled: a message, or several that render as consecutive paragraphs. */
export type CompiledKey = readonly IntlMessageFormat[];
export type CompiledFile = ReadonlyMap<string, CompiledKey>;

/** Every argument an element (and what it nests) uses, checked against what the key may use. */
function checkElements(elements: readonly MessageFormatElement[], args: FileSpec['args'], fail: (d: string) => never) {
  for (const element of elements) {
    if (isPoundElement(element) || isLiteralElement(element)) continue;
    if (isTagElement(element)) {
      fail(`a tag <${element.value}> is not allowed: messages are plain text`);
    }
    const kind: ArgumentKind | undefined = args[element.value];
    if (kind === undefined) {
      const known = Object.keys(args);
      fail(
        `unknown argument {${element.value}} (this message may use ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
    if (isDateElement(element) || isTimeElement(element)) fail(`{${element.value}} cannot be a date or time`);
    if ((isNumberElement(element) || isPluralElement(element)) && kind.kind !== 'number') {
      fail(`{${element.value}} is not a number`);
    }
    if (isSelectElement(element)) {
      if (kind.kind !== 'select') fail(`{${element.value}} has no values to select on`);
      for (const option of Object.keys(element.options)) {
        if (option !== 'other' && !kind.options.includes(option)) {
          fail(`{${element.value}, select} has no value "${option}" (its values: ${kind.options.join(', ')}, other)`);
        }
      }
    }
    if (isSelectElement(element) || isPluralElement(element)) {
      for (const option of Object.values(element.options)) checkElements(option.value, args, fail);
    } else if (!isArgumentElement(element) && !isNumberElement(element)) {
      fail('unsupported element');
    }
  }
}

/** A value of each argument, to render every message once at start (a message that throws is refused). */
function sampleValues(args: FileSpec['args']): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(args).map(([name, kind]) => [
      name,
      kind.kind === 'number' ? 2 : kind.kind === 'select' ? (kind.options[0] ?? 'other') : 'Sample',
    ]),
  );
}

/**
 * Parses and checks one catalogue file: a JSON object with exactly the keys of its spec, each an
 * ICU message (or a list of them, one paragraph each) using only the arguments the spec allows.
 */
export function compileFile(file: string, source: string, locale: string, spec: FileSpec): CompiledFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new CatalogueError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CatalogueError(file, 'must be a JSON object of messages');
  }
  const entries = parsed as Record<string, unknown>;
  for (const key of spec.keys) {
    if (!(key in entries)) throw new CatalogueError(file, `missing key "${key}"`);
  }
  const compiled = new Map<string, CompiledKey>();
  const samples = sampleValues(spec.args);
  for (const [key, value] of Object.entries(entries)) {
    if (!spec.keys.includes(key)) {
      throw new CatalogueError(file, `unknown key "${key}" (the keys: ${spec.keys.join(', ')})`);
    }
    const messages = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => typeof m === 'string')) {
      throw new CatalogueError(file, `"${key}" must be a message or a non-empty list of messages`);
    }
    compiled.set(
      key,
      messages.map((message: string) => {
        const fail = (detail: string): never => {
          throw new CatalogueError(file, `"${key}": ${detail}`);
        };
        if (message.trim() === '') fail('empty message');
        let format: IntlMessageFormat;
        try {
          format = new IntlMessageFormat(message, locale, undefined, { ignoreTag: false });
        } catch (error) {
          return fail(`not a valid ICU message (${(error as Error).message})`);
        }
        checkElements(format.getAst(), spec.args, fail);
        // Re-made with tags off, so a "<" in the wording is a literal character.
        format = new IntlMessageFormat(message, locale, undefined, { ignoreTag: true });
        try {
          format.format(samples);
        } catch (error) {
          fail(`cannot be rendered (${(error as Error).message})`);
        }
        return format;
      }),
    );
  }
  return compiled;
}

/** Renders a key to its paragraphs (one per message of the key). */
export function formatKey(file: CompiledFile, key: string, values: MessageValues): string[] {
  const messages = file.get(key);
  if (messages === undefined) throw new Error(`no key ${key}`);
  return messages.map((message) => String(message.format(values)));
}
