import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@otp/domain';

/**
 * The environment a service reads its configuration from: variables already set win over a
 * `.env` file (looked up in the working directory, then the repository root when run from it).
 * `ENV_FILE` names the one file to read instead; set it empty to read none (tests do, so a
 * developer's .env never leaks into them).
 */
export function readEnvironment(files: string[] = ['.env']): Record<string, string | undefined> {
  const chosen = process.env.ENV_FILE;
  const candidates = chosen === undefined ? files : chosen === '' ? [] : [chosen];
  for (const file of candidates) {
    const path = resolve(file);
    // loadEnvFile never overrides variables that are already set.
    if (existsSync(path)) process.loadEnvFile(path);
  }
  return process.env;
}

/** The `.env` at the repository root, for services started from another directory. */
export const REPOSITORY_ENV_FILE = fileURLToPath(new URL('../../../.env', import.meta.url));

/** Prints a configuration error naming each bad variable and exits; other errors propagate. */
export function exitOnConfigError(service: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}
