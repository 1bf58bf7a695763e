import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHIPPED_DIR } from '@otp/messages';
import { afterAll } from 'vitest';

/**
 * A TEMPLATES_DIR holding the shipped English files under other locales' names, removed after
 * the file's tests: a gateway started with it has those locales to choose from besides the
 * shipped ones, and tests assert on the locale chosen, never on wording.
 * Made when called (the path is known at once, for `useTestGateway`'s env); pass it as
 * `env: { TEMPLATES_DIR: dir }`.
 */
export function useTestTemplatesDir(locales: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'otp-templates-'));
  for (const locale of locales) cpSync(join(SHIPPED_DIR, 'en'), join(dir, locale), { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
