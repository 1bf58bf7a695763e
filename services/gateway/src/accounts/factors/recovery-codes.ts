import { createHmac, type KeyObject, randomBytes } from 'node:crypto';
import { consumeRecoveryCode, type Database, type Kysely, replaceRecoveryCodes } from '@otp/db';
import { toBase32 } from './factor.secrets.ts';

/** Codes per set; each is 80 random bits (16 base32 characters), shown once, stored as an HMAC. */
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_BYTES = 10;

/** `abcd-efgh-ijkl-mnop`: lower case, grouped by four for reading aloud or writing down. */
function newRecoveryCode(): string {
  const chars = toBase32(randomBytes(RECOVERY_CODE_BYTES)).toLowerCase();
  return (chars.match(/.{4}/g) as string[]).join('-');
}

/** What the user typed, as it was hashed: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(input: string): string {
  return input.replace(/[\s-]/g, '').toLowerCase();
}

/** Keyed hash bound to the user: a leaked table neither reveals codes nor lets one be moved. */
export function recoveryCodeHash(key: KeyObject, userId: string, code: string): Buffer {
  return createHmac('sha256', key)
    .update(`recovery:${userId}:${normalizeRecoveryCode(code)}`)
    .digest();
}

/** A new set replaces the old one (the old codes stop working); run it in a transaction. */
export async function issueRecoveryCodes(db: Kysely<Database>, key: KeyObject, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await replaceRecoveryCodes(
    db,
    userId,
    codes.map((code) => recoveryCodeHash(key, userId, code)),
  );
  return codes;
}

/** Uses one code of the account's set; true once per code, however many requests present it. */
export async function redeemRecoveryCode(
  db: Kysely<Database>,
  key: KeyObject,
  userId: string,
  code: string,
  at: Date,
): Promise<boolean> {
  return consumeRecoveryCode(db, userId, recoveryCodeHash(key, userId, code), at);
}
