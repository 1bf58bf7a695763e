import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findMarkdownProblems } from './markdown.check.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Installed, generated or ignored trees, and fixtures that are broken on purpose.
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'coverage', 'test-artifacts', '.outbox', 'fixtures']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : markdownFiles(join(dir, entry.name));
    return entry.isFile() && entry.name.endsWith('.md') ? [join(dir, entry.name)] : [];
  });
}

/** The problems of a Markdown text whose only existing link target is present.md. */
function problems(markdown: string): Array<[number, string]> {
  return findMarkdownProblems(markdown, (target) => target === 'present.md').map(({ line, message }) => [
    line,
    message,
  ]);
}

describe('the Markdown check', () => {
  it('reports a code fence that is never closed, at the line that opens it', () => {
    expect(problems('# Title\n\n```ts\nconst a = 1;\n\n## Later\n\nText.\n')).toEqual([
      [3, expect.stringContaining('never closed')],
    ]);
    // A longer fence around a closed shorter one, the outer one never closed.
    expect(problems('Text.\n\n````md\n```ts\nx\n```\n')).toEqual([[3, expect.stringContaining('````')]]);
    expect(problems('> ```\n> code\n')).toEqual([[1, expect.stringContaining('never closed')]]);
  });

  it('reports a stray fence that a later one closes, swallowing headings and code blocks', () => {
    expect(problems('# Title\n\n````\n\n## Section\n\n```sh\nls\n```\n````\n')).toEqual([
      [3, expect.stringContaining('runs to the end of the file and holds headings or fences')],
    ]);
    expect(problems('````md\n## Markdown shown as code on purpose\n````\n')).toEqual([]);
  });

  it('accepts fences closed by the same or a longer run, in a quote or a list too', () => {
    expect(problems('```sh\nls\n```\n\n~~~\nx\n~~~~\n\n> ```\n> code\n> ```\n\n- item\n\n  ```\n  x\n  ```\n')).toEqual(
      [],
    );
  });

  it('reports table rows with more or fewer cells than the header', () => {
    expect(problems('| a | b |\n| - | - |\n| 1 |\n| 1 | 2 | 3 |\n| 1 | 2 |\n')).toEqual([
      [3, 'table row has 1 cells, its header 2'],
      [4, 'table row has 3 cells, its header 2'],
    ]);
  });

  it('reports table rows cut off from their table, and a header without its delimiter row', () => {
    expect(problems('| a | b |\n| - | - |\n| 1 | 2 |\n\n| 3 | 4 |\n')).toEqual([
      [5, expect.stringContaining('not part of a table')],
    ]);
    expect(problems('| a | b |\n| 1 | 2 |\n')).toEqual([
      [1, expect.stringContaining('not part of a table')],
      [2, expect.stringContaining('not part of a table')],
    ]);
  });

  it('counts an escaped pipe as text, and leaves pipes in code blocks alone', () => {
    expect(problems('| a | b |\n| :-- | --: |\n| x \\| y | 2 |\n\n```\n| not | a | table |\n```\n')).toEqual([]);
  });

  it('reports relative links and images to files that do not exist, anchors ignored', () => {
    const text = [
      '[gone](missing.md) and [here](present.md#usage)',
      '',
      '![picture](images/missing.png)',
      '',
      '[section](gone.md#section) <img src="none.png">',
      '',
      '[web](https://example.com/x.md) [mail](mailto:a@example.com) [top](#top)',
    ].join('\n');
    expect(problems(text)).toEqual([
      [1, 'link to missing.md, which does not exist'],
      [3, 'link to images/missing.png, which does not exist'],
      [5, 'link to gone.md, which does not exist'],
      [5, 'link to none.png, which does not exist'],
    ]);
  });

  it('finds nothing wrong in a clean document', () => {
    const text = [
      '# Title',
      '',
      'See [the guide](present.md) and [the top](#title).',
      '',
      '| Variable | Default |',
      '| -------- | ------- |',
      '| `PORT`   | `3000`  |',
      '',
      '```sh',
      'pnpm docs',
      '```',
      '',
    ].join('\n');
    expect(problems(text)).toEqual([]);
  });
});

describe('the Markdown files of the repository', () => {
  const files = markdownFiles(ROOT).map((file) => relative(ROOT, file));

  it('include the README', () => {
    expect(files).toContain('README.md');
  });

  it.each(files)('%s renders as written', (file) => {
    const exists = (target: string) =>
      existsSync(target.startsWith('/') ? join(ROOT, target) : resolve(ROOT, dirname(file), target));
    const found = findMarkdownProblems(readFileSync(join(ROOT, file), 'utf8'), exists);
    expect(found.map(({ line, message }) => `${file}:${line}: ${message}`)).toEqual([]);
  });
});
