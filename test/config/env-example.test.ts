import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCHEMAS } from './service-schemas.ts';

// .env.example is the operator's list of every setting; it must not drift from the schemas the
// services actually read.
const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
const documented = new Set(
  example
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
);
const schemas = SERVICE_SCHEMAS;

describe('.env.example', () => {
  it.each(Object.entries(schemas))('lists every variable the %s reads', (_service, schema) => {
    const missing = Object.keys(schema.properties).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('lists no variable that no service reads', () => {
    const read = new Set(Object.values(schemas).flatMap((schema) => Object.keys(schema.properties)));
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });

  it('gives, where it sets one, the same default as the schema', () => {
    const values = new Map(
      example
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
        .filter((match) => match !== null)
        .map((match) => [match[1] as string, (match[2] as string).replace(/^"(.*)"$/, '$1')]),
    );
    const mismatches: string[] = [];
    for (const schema of Object.values(schemas)) {
      for (const [name, property] of Object.entries(schema.properties) as Array<[string, { default?: unknown }]>) {
        const value = values.get(name);
        if (value === undefined || value === '' || property.default === undefined) continue;
        if (String(property.default) !== value) mismatches.push(`${name}: ${value} vs ${String(property.default)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
