import { hash, verify } from '@node-rs/argon2';
import type { GatewayConfig } from '../../config.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `stored`; for an unknown user pass undefined: a dummy is checked. */
  verify(stored: string | null | undefined, password: string): Promise<boolean>;
}

// @node-rs/argon2 declares its algorithm as a const enum, which type stripping cannot read;
// 2 is Argon2id in it.
const ARGON2ID = 2;

/**
 * Argon2id with the configured cost (defaults: OWASP's minimum, m=19456 KiB, t=2, p=1). When there
 * is no hash to check (unknown email, or an account that signs in with codes only) a dummy hash
 * of the same cost is verified instead, so the answer takes as long as for a wrong password.
 */
export function createPasswordHasher(
  config: Pick<GatewayConfig, 'PASSWORD_MEMORY_KIB' | 'PASSWORD_TIME_COST' | 'PASSWORD_PARALLELISM'>,
): PasswordHasher {
  const options = {
    algorithm: ARGON2ID as never,
    memoryCost: config.PASSWORD_MEMORY_KIB,
    timeCost: config.PASSWORD_TIME_COST,
    parallelism: config.PASSWORD_PARALLELISM,
  };
  // Computed once at start (not on the first unknown email, which would then take twice as long).
  const dummy = hash('dummy password: never the password of any account', options);
  dummy.catch(() => undefined);
  const dummyHash = () => dummy;
  return {
    hash: (password) => hash(password, options),
    async verify(stored, password) {
      if (stored === null || stored === undefined) {
        await verify(await dummyHash(), password).catch(() => false);
        return false;
      }
      return verify(stored, password).catch(() => false);
    },
  };
}
