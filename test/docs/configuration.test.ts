import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_PAGE, renderConfigurationPage } from '../../scripts/docs/configuration.ts';
import { SERVICE_SCHEMAS } from '../config/service-schemas.ts';
import { findMarkdownProblems } from './markdown.check.ts';

const page = renderConfigurationPage();
const schemas = Object.values(SERVICE_SCHEMAS);

/** Each table row of a Markdown page as the text of its cells, the way a reader sees them. */
function tableRows(markdown: string): string[][] {
  const rows: string[][] = [];
  let row: string[] | undefined;
  for (const token of new MarkdownIt().parse(markdown, {})) {
    if (token.type === 'tr_open') {
      row = [];
      rows.push(row);
    }
    if (token.type === 'tr_close') row = undefined;
    if (token.type === 'inline') row?.push((token.children ?? []).map((child) => child.content).join(''));
  }
  return rows;
}

describe('docs/configuration.md', () => {
  it('is what the schemas give today', () => {
    const written = existsSync(CONFIGURATION_PAGE) ? readFileSync(CONFIGURATION_PAGE, 'utf8') : '(no file)';
    expect(written, 'docs/configuration.md differs from the config schemas: run `pnpm docs:generate`').toBe(page);
  });

  it('passes the Markdown check', () => {
    const folder = dirname(fileURLToPath(CONFIGURATION_PAGE));
    expect(findMarkdownProblems(page, (target) => existsSync(resolve(folder, target)))).toEqual([]);
  });

  it("shows every variable with its schema's description, word for word", () => {
    const shown = tableRows(page).map((cells) => `${cells[0]}: ${cells[cells.length - 1]}`);
    const expected = schemas.flatMap((schema) =>
      Object.entries(schema.properties).map(
        ([name, property]) => `${name}: ${(property as { description?: string }).description}`,
      ),
    );
    expect(new Set(shown)).toEqual(new Set([...expected, 'Variable: Description']));
  });
});
