import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCHEMAS } from '../config/service-schemas.ts';

// docs/production.md against the schemas the services parse: the secrets it lists are the ones
// that take NAME_FILE, and the ports of its table are the defaults.
const doc = readFileSync(new URL('../../docs/production.md', import.meta.url), 'utf8');
const schemas = Object.values(SERVICE_SCHEMAS);
const section = (heading: string) => new RegExp(`## ${heading}\\n([\\s\\S]*?)(\\n## |$)`).exec(doc)?.[1] ?? '';

describe('docs/production.md', () => {
  it('lists exactly the secrets that may come from files', () => {
    const fromFiles = new Set(
      schemas.flatMap((schema) =>
        Object.keys(schema.properties)
          .filter((name) => name.endsWith('_FILE'))
          .map((name) => name.slice(0, -'_FILE'.length)),
      ),
    );
    const listed = /The secrets: ([\s\S]*?)\.\n/.exec(section('Secrets from files'))?.[1] ?? '';
    const names = [...listed.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]);
    expect(names.sort()).toEqual([...fromFiles].sort());
  });

  it("gives each port's default as the schemas do", () => {
    const rows = [...section('Ports: who may reach what').matchAll(/^\| (\d+) \| [^(|]*\(`([A-Z_]+)`\)/gm)];
    expect(rows.length).toBe(7);
    for (const [, port, variable] of rows) {
      const schema = schemas.find((one) => variable !== undefined && variable in one.properties);
      const property = schema?.properties[variable as keyof typeof schema.properties] as { default?: number };
      expect(property?.default, variable).toBe(Number(port));
    }
  });
});
