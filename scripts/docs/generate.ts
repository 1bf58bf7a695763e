// `pnpm docs:generate` (plain `pnpm docs` is pnpm's own command): writes every generated doc:
// docs/configuration.md whole, and the generated sections of the hand-written pages.
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIGURATION_PAGE, renderConfigurationPage } from './configuration.ts';
import { fillSection, GENERATED_SECTIONS } from './sections.ts';

const root = new URL('../../', import.meta.url);
writeFileSync(CONFIGURATION_PAGE, renderConfigurationPage());
console.log('wrote docs/configuration.md');
for (const section of GENERATED_SECTIONS) {
  const file = new URL(section.file, root);
  writeFileSync(file, fillSection(readFileSync(file, 'utf8'), section.name, section.render()));
  console.log(`wrote the ${section.name} section of ${section.file}`);
}
