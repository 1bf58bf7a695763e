import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs name files and folders of the repository in code spans (`services/gateway/src/...`);
// a file that moved makes such a claim false without breaking any link. Every span that starts
// at a top-level folder of the repository must name something that exists.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOP = /^`((?:services|packages|deploy|scripts|test|docs)\/[^`\s*…]*)`/;

function docs(): string[] {
  const pages = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md'));
  return ['README.md', 'ARCHITECTURE.md', ...pages.map((name) => `docs/${name}`)];
}

/** `file:line: path` for each repository path named in code spans of a Markdown text that does not exist. */
function missingPaths(file: string, markdown: string, exists: (path: string) => boolean): string[] {
  const missing: string[] = [];
  markdown.split('\n').forEach((line, index) => {
    for (let at = line.indexOf('`'); at !== -1; at = line.indexOf('`', at + 1)) {
      const path = TOP.exec(line.slice(at))?.[1];
      if (path !== undefined && !exists(path.replace(/[.,:;)]+$/, ''))) missing.push(`${file}:${index + 1}: ${path}`);
    }
  });
  return missing;
}

describe('repository paths named in the docs', () => {
  it('finds a path that does not exist, and passes one that does', () => {
    const exists = (path: string) => path === 'services/gateway/src/app.ts';
    expect(
      missingPaths('x.md', 'See `services/gateway/src/app.ts`.\nAnd `services/gateway/src/auth/gone.ts`.\n', exists),
    ).toEqual(['x.md:2: services/gateway/src/auth/gone.ts']);
  });

  it.each(docs())('%s names only paths that exist', (file) => {
    const markdown = readFileSync(join(ROOT, file), 'utf8');
    expect(missingPaths(relative(ROOT, join(ROOT, file)), markdown, (path) => existsSync(join(ROOT, path)))).toEqual(
      [],
    );
  });
});
