import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  checkVariable,
  isLocalHost,
  Port,
  PostgresUrl,
  parseConfig,
  Secret,
  withSecretFiles,
} from './config.ts';

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

describe('secrets from files (NAME_FILE)', () => {
  const secrets = Type.Object(
    withSecretFiles({
      DATABASE_URL: PostgresUrl,
      TOKEN: Secret(Type.String({ minLength: 8 })),
      NAME: Type.Optional(Type.String()),
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'otp-secrets-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const problemsOf = (env: Record<string, string>) => {
    try {
      parseConfig(secrets, env);
    } catch (error) {
      return error instanceof ConfigError ? error.problems : ['not a ConfigError'];
    }
    return [];
  };

  it('declares NAME_FILE beside each secret, and only there', () => {
    expect(Object.keys(secrets.properties)).toEqual([
      'DATABASE_URL',
      'DATABASE_URL_FILE',
      'TOKEN',
      'TOKEN_FILE',
      'NAME',
    ]);
  });

  it('reads a secret from its file, dropping one trailing newline as echo leaves it', () => {
    const config = parseConfig(secrets, {
      DATABASE_URL_FILE: file('db', 'postgres://u:p@db/otp\n'),
      TOKEN_FILE: file('token', 'a-token-value  \r\n'),
    });
    expect(config.DATABASE_URL).toBe('postgres://u:p@db/otp');
    expect(config.TOKEN).toBe('a-token-value  ');
  });

  it('checks what the file holds like the variable itself, naming the variable and never the value', () => {
    const found = problemsOf({ DATABASE_URL_FILE: file('bad-db', 'mysql://secret-pass@x\n'), TOKEN: 'long-enough' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^DATABASE_URL: /);
    expect(found.join()).not.toContain('secret-pass');
  });

  it('refuses both NAME and NAME_FILE, and a file it cannot read, naming NAME_FILE', () => {
    const both = problemsOf({ DATABASE_URL: 'postgres://db/otp', TOKEN: 'long-enough', TOKEN_FILE: file('t', 'x') });
    expect(both).toEqual(['TOKEN_FILE: TOKEN is set too; set only one of them']);
    const missing = problemsOf({ DATABASE_URL: 'postgres://db/otp', TOKEN_FILE: join(dir, 'nothing-here') });
    expect(missing).toEqual(['TOKEN_FILE: cannot read the file (ENOENT)', 'TOKEN: required but not set']);
  });

  it('takes no NAME_FILE for a variable that is not a secret', () => {
    const config = parseConfig(secrets, {
      DATABASE_URL: 'postgres://db/otp',
      TOKEN: 'long-enough',
      NAME_FILE: file('n', 'x'),
    });
    expect(config.NAME).toBeUndefined();
  });
});

describe('isLocalHost', () => {
  it('knows the names of this machine, in URLs and host:port forms', () => {
    for (const local of [
      'http://localhost:3000',
      'localhost',
      'app.localhost:8080',
      'https://127.0.0.1',
      '127.1.2.3:9',
      'http://[::1]:3000',
      '0.0.0.0',
    ]) {
      expect(isLocalHost(local), local).toBe(true);
    }
    for (const remote of [
      'https://otp.example.com',
      'otp.example.com',
      'localhost.example.com',
      'http://10.0.0.1',
      'mylocalhost',
    ]) {
      expect(isLocalHost(remote), remote).toBe(false);
    }
  });
});
