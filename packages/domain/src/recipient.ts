import { createHmac, type KeyObject } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { PublicError } from './errors.ts';

export type Channel = 'email' | 'sms';

// Deliberately plain: one "@", a dot-separated domain with a TLD, no spaces or angle brackets.
// Deliverability is the SMTP server's call; this only refuses what cannot be an address.
const EMAIL =
  /^[^\s@<>()",;:\\[\]]{1,64}@(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Trims and lower-cases the domain (the local part is case-sensitive by RFC 5321). */
export function normalizeEmail(input: string): string {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  const normalized = at < 0 ? trimmed : `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
  if (normalized.length > 254 || !EMAIL.test(normalized)) {
    throw new PublicError('invalid_recipient', { detail: 'to must be a valid email address' });
  }
  return normalized;
}

/** Parses an international number (leading +) and returns it in E.164, or throws invalid_recipient. */
export function normalizePhone(input: string): string {
  const parsed = parsePhoneNumberFromString(input.trim());
  if (parsed === undefined || !parsed.isValid()) {
    throw new PublicError('invalid_recipient', {
      detail: 'to must be a valid phone number in international format, e.g. +14155552671',
    });
  }
  return parsed.number;
}

export function normalizeRecipient(channel: Channel, input: string): string {
  return channel === 'email' ? normalizeEmail(input) : normalizePhone(input);
}

/** `j***@example.com`: enough for a person to recognise their address, not enough to use it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}***@${email.slice(at + 1)}`;
}

/** `+*******2671`: the last four digits only. */
export function maskPhone(e164: string): string {
  return `+${'*'.repeat(Math.max(e164.length - 5, 1))}${e164.slice(-4)}`;
}

export function maskRecipient(channel: Channel, normalized: string): string {
  return channel === 'email' ? maskEmail(normalized) : maskPhone(normalized);
}

/**
 * A keyed hash of a normalised recipient, used to count challenges per recipient without keeping
 * the address in clear next to them.
 */
export function recipientHash(key: KeyObject, channel: Channel, normalized: string): Buffer {
  return createHmac('sha256', key).update(`recipient.v1\0${channel}\0${normalized}`).digest();
}
