import { randomBytes } from 'node:crypto';
import {
  deleteFactor,
  enableFactor,
  type FactorKind,
  findFactor,
  findUserById,
  listEnabledFactors,
  replaceRecoveryCodes,
  upsertPendingFactor,
} from '@otp/db';
import { PublicError } from '@otp/domain';
import QRCode from 'qrcode';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import type { FactorProof } from '../auth/factor.port.ts';
import { checkFactorProof } from './factor.check.service.ts';
import { verifyFactorCode } from './factor.codes.ts';
import { base32, sealFactorSecret, toBase32 } from './factor.secrets.ts';
import { issueRecoveryCodes } from './recovery-codes.ts';

/** RFC 4226 asks for at least 128 bits and recommends 160: generated secrets have 160. */
export const FACTOR_SECRET_BYTES = 20;
const ALGORITHM = 'sha1';
const DIGITS = 6;
const PERIOD = 30;

export interface Enrolment {
  secret: string;
  otpauthUrl: string;
  counter?: number;
}

async function accountLabel(deps: GatewayDeps, userId: string): Promise<string> {
  const user = await findUserById(deps.db, userId);
  return user?.email ?? user?.phone ?? userId;
}

/**
 * Starts enrolling a factor: a pending row with the secret sealed under FACTOR_KEYS (replacing
 * an earlier pending one), and the Key Uri Format URL authenticator apps read. 409 when this
 * kind is already enabled.
 */
export async function enrolFactor(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  kind: FactorKind,
  given?: Uint8Array,
): Promise<Enrolment> {
  const secret = given ?? randomBytes(FACTOR_SECRET_BYTES);
  await inTransaction(deps.db, async (trx) => {
    const row = await upsertPendingFactor(trx, {
      userId,
      kind,
      secretEnvelope: sealFactorSecret(deps.keys.factorSecrets, userId, kind, secret),
      algorithm: ALGORITHM,
      digits: DIGITS,
      period: kind === 'totp' ? PERIOD : null,
      counter: kind === 'hotp' ? 0 : null,
    });
    if (row === undefined) throw new PublicError('factor_already_enabled');
    // Only begun: nothing is protected by a pending factor yet, so no notice (enabling sends one).
    await recordEvent(trx, context, 'factor.changed', { userId, details: { kind, change: 'enrolled' }, notice: false });
  });
  const encoded = toBase32(secret);
  const otpauthUrl = keyUri(kind, deps.config.TOTP_ISSUER, await accountLabel(deps, userId), encoded);
  return { secret: encoded, otpauthUrl, ...(kind === 'hotp' ? { counter: 0 } : {}) };
}

/**
 * Key Uri Format (github.com/google/google-authenticator/wiki/Key-Uri-Format): the issuer both as
 * the label's prefix and as a parameter, the secret in base32 without padding, and every
 * parameter spelled out (otplib's generateURI leaves the defaults out; some apps guess wrong then).
 */
export function keyUri(kind: FactorKind, issuer: string, account: string, secret: string): string {
  const parameters = new URLSearchParams({
    secret,
    issuer,
    algorithm: ALGORITHM.toUpperCase(),
    digits: String(DIGITS),
  });
  parameters.set(kind === 'totp' ? 'period' : 'counter', kind === 'totp' ? String(PERIOD) : '0');
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  return `otpauth://${kind}/${label}?${parameters.toString().replace(/\+/g, '%20')}`;
}

/** The otpauth URL as a QR code (SVG) for the authenticator app's camera. */
export function qrCodeSvg(otpauthUrl: string): Promise<string> {
  return QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** Decodes a base32 secret a client gave (spaces and padding allowed); undefined when invalid. */
export function decodeGivenSecret(value: string): Uint8Array | undefined {
  try {
    return base32.decode(value.replace(/[\s=]/g, '').toUpperCase());
  } catch {
    return undefined;
  }
}

/**
 * Enables a pending factor with its first valid code. When it is the account's first factor, a
 * set of recovery codes is issued (returned once); a second factor keeps the existing set.
 */
export async function confirmFactor(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  kind: FactorKind,
  code: string,
): Promise<{ recoveryCodes?: string[] }> {
  const factor = await findFactor(deps.db, userId, kind);
  if (factor === undefined) throw new PublicError('factor_not_found', { detail: `no ${kind} enrolment to verify` });
  if (factor.enabled_at !== null) throw new PublicError('factor_already_enabled');
  if (!(await verifyFactorCode(deps, factor, code, now(deps)))) {
    await recordEvent(deps.db, context, 'factor.failed', { userId, details: { method: kind, stage: 'enrol' } });
    throw new PublicError('invalid_factor_code');
  }
  const recoveryCodes = await inTransaction(deps.db, async (trx) => {
    const first = (await listEnabledFactors(trx, userId)).length === 0;
    if (!(await enableFactor(trx, factor.id, now(deps)))) throw new PublicError('factor_already_enabled');
    await recordEvent(trx, context, 'factor.changed', { userId, details: { kind, change: 'enabled' } });
    return first ? issueRecoveryCodes(trx, deps.keys.codeHmacKey, userId) : undefined;
  });
  return recoveryCodes === undefined ? {} : { recoveryCodes };
}

/** Removes an enabled factor after a valid proof; with the last factor the recovery codes go too. */
export async function removeFactor(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  kind: FactorKind,
  proof: FactorProof,
): Promise<void> {
  const factor = await findFactor(deps.db, userId, kind);
  if (factor === undefined || factor.enabled_at === null) throw new PublicError('factor_not_found');
  if ((await checkFactorProof(deps, context, userId, proof)) === undefined)
    throw new PublicError('invalid_factor_code');
  await inTransaction(deps.db, async (trx) => {
    await deleteFactor(trx, userId, kind);
    if ((await listEnabledFactors(trx, userId)).length === 0) await replaceRecoveryCodes(trx, userId, []);
    await recordEvent(trx, context, 'factor.changed', { userId, details: { kind, change: 'removed' } });
  });
}
