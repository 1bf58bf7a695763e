import { timingSafeEqual } from 'node:crypto';
import { generateSync } from 'otplib';

/**
 * The factor codes as the routes check them: RFC 4226 (HOTP) and RFC 6238 (TOTP). otplib computes
 * a code for one counter; which counters are tried, in what window, and what is refused as a
 * replay is decided here (and tested against the RFC vectors and oathtool).
 */
export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface OtpParameters {
  algorithm: OtpAlgorithm;
  digits: number;
}

/** The code of one counter value (HOTP), or of one time step (TOTP: counter = step). */
export function hotpCode(secret: Uint8Array, counter: number, parameters: OtpParameters): string {
  return generateSync({
    strategy: 'hotp',
    secret,
    counter,
    algorithm: parameters.algorithm,
    digits: parameters.digits,
  });
}

/** Constant-time comparison of two codes of equal length (a length mismatch is simply false). */
function sameCode(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The RFC 6238 time step of an instant: floor((unix seconds - T0) / period), T0 = 0. */
export function totpStep(at: Date, period: number): number {
  return Math.floor(Math.floor(at.getTime() / 1000) / period);
}

/**
 * The step whose code `code` is, among the current step and `drift` steps either side, later
 * than `lastStep` (a code at or before the last accepted step is a replay); undefined if none.
 */
export function matchTotp(
  secret: Uint8Array,
  code: string,
  at: Date,
  options: OtpParameters & { period: number; drift: number; lastStep: number | null },
): number | undefined {
  const current = totpStep(at, options.period);
  for (let step = current - options.drift; step <= current + options.drift; step += 1) {
    if (step < 0 || (options.lastStep !== null && step <= options.lastStep)) continue;
    if (sameCode(hotpCode(secret, step, options), code)) return step;
  }
  return undefined;
}

/**
 * The counter value in [counter, counter + window) whose code is `code`, the look-ahead of
 * RFC 4226 section 7.4; undefined if none. The caller moves the stored counter past it.
 */
export function matchHotp(
  secret: Uint8Array,
  code: string,
  options: OtpParameters & { counter: number; window: number },
): number | undefined {
  for (let value = options.counter; value < options.counter + options.window; value += 1) {
    if (sameCode(hotpCode(secret, value, options), code)) return value;
  }
  return undefined;
}

/**
 * Resynchronisation of a token that drifted past the look-ahead: two consecutive codes must
 * match consecutive counter values within the (larger) resync window. The counter of the
 * second code, or undefined.
 */
export function matchHotpPair(
  secret: Uint8Array,
  first: string,
  second: string,
  options: OtpParameters & { counter: number; window: number },
): number | undefined {
  for (let value = options.counter; value < options.counter + options.window; value += 1) {
    if (sameCode(hotpCode(secret, value, options), first) && sameCode(hotpCode(secret, value + 1, options), second)) {
      return value + 1;
    }
  }
  return undefined;
}
