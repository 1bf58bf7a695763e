import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fillSection, GENERATED_SECTIONS } from '../../scripts/docs/sections.ts';

const root = new URL('../../', import.meta.url);

describe('generated sections of the docs', () => {
  it.each(GENERATED_SECTIONS.map((section) => [`${section.file} (${section.name})`, section] as const))(
    '%s is what the code gives today',
    (_label, section) => {
      const written = readFileSync(new URL(section.file, root), 'utf8');
      expect(written, `${section.file} is out of date: run \`pnpm docs:generate\``).toBe(
        fillSection(written, section.name, section.render()),
      );
    },
  );

  it('fills only between its markers, and refuses a page without them', () => {
    const page = 'before\n<!-- generated:x -->\nstale\n<!-- /generated:x -->\nafter\n';
    expect(fillSection(page, 'x', 'fresh\n')).toBe(
      'before\n<!-- generated:x -->\n\nfresh\n\n<!-- /generated:x -->\nafter\n',
    );
    expect(() => fillSection('no markers', 'x', '')).toThrow(/markers/);
  });
});
