import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkVariable, Port, PostgresUrl, parseConfig } from './config.ts';

const schema = Type.Object({
  DATABASE_URL: PostgresUrl,
  PORT: Port(3000, 'HTTP port'),
  ENABLED: Type.Boolean({ default: true }),
  NAME: Type.Optional(Type.String()),
});

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(schema, env);
  } catch (error) {
    return error instanceof ConfigError ? error.problems : ['not a ConfigError'];
  }
  return [];
}

describe('parseConfig', () => {
  it('converts types and applies defaults', () => {
    expect(parseConfig(schema, { DATABASE_URL: 'postgres://x/y', PORT: '8080', ENABLED: 'false' })).toEqual({
      DATABASE_URL: 'postgres://x/y',
      PORT: 8080,
      ENABLED: false,
    });
    expect(parseConfig(schema, { DATABASE_URL: 'postgres://x/y' }).PORT).toBe(3000);
  });

  it('names every missing or bad variable, never its value', () => {
    const found = problems({ PORT: 'eighty' });
    expect(found.join('\n')).toContain('DATABASE_URL');
    expect(found.join('\n')).toContain('PORT');
    expect(found.join('\n')).not.toContain('eighty');
    expect(problems({ DATABASE_URL: 'mysql://x' }).join('\n')).toContain('DATABASE_URL');
  });

  it('treats an empty variable as unset', () => {
    expect(problems({ DATABASE_URL: '' }).join('\n')).toContain('DATABASE_URL');
  });

  it('checkVariable wraps a parse failure with the variable name', () => {
    expect(() =>
      checkVariable('SECRET_KEY', () => {
        throw new Error('too short');
      }),
    ).toThrow(/SECRET_KEY: too short/);
  });
});
