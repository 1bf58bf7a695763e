import { createHmac, type KeyObject, randomInt, timingSafeEqual } from 'node:crypto';

export const MIN_CODE_LENGTH = 6;
export const MAX_CODE_LENGTH = 10;

/** A numeric code of `length` digits from the CSPRNG, leading zeros kept. */
export function generateNumericCode(length: number): string {
  if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH) {
    throw new RangeError(`code length must be an integer from ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH}`);
  }
  // randomInt draws uniformly (rejection sampling), so every code is equally likely.
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}

/**
 * The keyed hash stored instead of a code. Binding the challenge id into the MAC means a code is
 * valid only for the challenge it was sent for, and a database dump alone cannot be brute-forced
 * (the key lives outside the database).
 */
export function hashCode(key: KeyObject, challengeId: string, code: string): Buffer {
  return createHmac('sha256', key).update(`otp-code.v1\0${challengeId}\0${code}`).digest();
}

/**
 * True when `code` matches one of the stored hashes. Every stored hash is compared with
 * timingSafeEqual on equal-length digests and the loop never exits early, so the time taken does
 * not tell which (or whether any) hash matched.
 */
export function codeMatches(key: KeyObject, challengeId: string, code: string, stored: readonly Buffer[]): boolean {
  const candidate = hashCode(key, challengeId, code);
  let matched = false;
  for (const hash of stored) {
    const equal = hash.length === candidate.length && timingSafeEqual(hash, candidate);
    matched = matched || equal;
  }
  return matched;
}
