import { hash, verify } from '@node-rs/argon2';
import { PublicError } from '@otp/domain';
import type { GatewayConfig } from '../../config.ts';
import { BoundFullError, createConcurrencyBound } from './hash-bound.ts';

export interface PasswordHasher {
  /** Throws service_unavailable (503, Retry-After) when the hashing queue is full. */
  hash(password: string): Promise<string>;
  /**
   * True when `password` matches `stored`; for an unknown user pass undefined: a dummy is checked.
   * Throws service_unavailable (503, Retry-After) when the hashing queue is full.
   */
  verify(stored: string | null | undefined, password: string): Promise<boolean>;
  /** Argon2id calls running and waiting now (the otp_password_hash_calls gauge). */
  load(): { running: number; waiting: number };
}

// @node-rs/argon2 declares its algorithm as a const enum, which type stripping cannot read;
// 2 is Argon2id in it.
const ARGON2ID = 2;

/** How long a caller refused by a full hashing queue is told to wait. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Argon2id with the configured cost (defaults: OWASP's minimum, m=19456 KiB, t=2, p=1). When there
 * is no hash to check (unknown email, or an account that signs in with codes only) a dummy hash
 * of the same cost is verified instead, so the answer takes as long as for a wrong password.
 *
 * Every hash and verification, the dummy one included, runs behind one bound per process:
 * PASSWORD_HASH_CONCURRENCY at once (by default the libuv pool's size: more would only queue
 * inside libuv, behind DNS and file reads too) and PASSWORD_HASH_QUEUE waiting; a call that finds
 * the queue full is refused at once with 503 service_unavailable and Retry-After, without
 * hashing. Unauthenticated routes reach Argon2 (login, register), so without the bound a burst of
 * requests would take 19 MiB and a pool thread each and starve everything else of both.
 */
export function createPasswordHasher(
  config: Pick<
    GatewayConfig,
    | 'PASSWORD_MEMORY_KIB'
    | 'PASSWORD_TIME_COST'
    | 'PASSWORD_PARALLELISM'
    | 'PASSWORD_HASH_CONCURRENCY'
    | 'PASSWORD_HASH_QUEUE'
  >,
): PasswordHasher {
  const options = {
    algorithm: ARGON2ID as never,
    memoryCost: config.PASSWORD_MEMORY_KIB,
    timeCost: config.PASSWORD_TIME_COST,
    parallelism: config.PASSWORD_PARALLELISM,
  };
  const bound = createConcurrencyBound({
    concurrency: config.PASSWORD_HASH_CONCURRENCY,
    queue: config.PASSWORD_HASH_QUEUE,
  });
  async function bounded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await bound.run(work);
    } catch (error) {
      if (error instanceof BoundFullError) {
        throw new PublicError('service_unavailable', { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS });
      }
      throw error;
    }
  }
  // Computed once at start (not on the first unknown email, which would then take twice as long);
  // outside the bound, as nothing waits on it yet.
  const dummy = hash('dummy password: never the password of any account', options);
  dummy.catch(() => undefined);
  return {
    hash: (password) => bounded(() => hash(password, options)),
    async verify(stored, password) {
      if (stored === null || stored === undefined) {
        const dummyHash = await dummy;
        await bounded(() => verify(dummyHash, password).catch(() => false));
        return false;
      }
      return bounded(() => verify(stored, password).catch(() => false));
    },
    load: () => ({ running: bound.running, waiting: bound.waiting }),
  };
}
