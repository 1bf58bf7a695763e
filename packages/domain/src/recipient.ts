import { createHmac, type KeyObject } from 'node:crypto';
import { domainToASCII, domainToUnicode } from 'node:url';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { PublicError } from './errors.ts';

export type Channel = 'email' | 'sms';

// One account, one recipient window and one throttle key per address: every lookup, uniqueness
// check and recipient hash uses the normal form that `normalizeEmail` returns, never the input.
//
// - The whole address is lower-cased, the local part too. RFC 5321 lets a server tell `Ada@` from
//   `ada@`, but almost none does, and two accounts (and two rate-limit windows) for one mailbox
//   are the worse outcome. Lower-case (Unicode's default, locale-free mapping), not full case
//   folding: `ß` stays `ß`, it does not become `ss`.
// - Unicode text is brought to NFC, so an `ü` typed as one code point and one typed as `u` plus a
//   combining diaeresis (some keyboards and copy-pastes give that) are one address. Not NFKC: it would also
//   fold distinct characters that merely look related (`ﬁ` → `fi`, `²` → `2`, full-width letters),
//   sending the code to a mailbox the person did not type and merging addresses a mail server keeps
//   apart. NFC first, so canonically equal inputs are equal before lower-casing, and again after,
//   since lower-casing may leave a sequence that is not composed.
// - The domain goes to ASCII by IDNA (UTS #46 processing, as browsers do it, with `node:url`'s
//   built-in `domainToASCII`): `münchen.de` → `xn--mnchen-3ya.de`, lower-cased and checked on
//   the way. DNS and SMTP without extensions see only that form.
// - A local part may hold Unicode (RFC 6531, SMTPUTF8), as it could before this normal form
//   existed: refusing it now would lock out accounts made with one. nodemailer announces SMTPUTF8
//   when the relay offers it; a relay without it may refuse the message, a permanent delivery
//   failure recorded like any other. Invisible and control code points (`\p{C}`: controls, format
//   characters such as zero-width joiners and bidi overrides, unassigned and private-use code
//   points, lone surrogates) are refused: they would make two addresses that look identical, and
//   an unassigned code point may normalise differently once a later Unicode version assigns it.
// Deliberately plain otherwise: deliverability is the SMTP server's call; this only refuses what
// cannot be an address.

// No whitespace, none of the characters an unquoted address cannot hold, no `\p{C}` (see above).
const LOCAL_PART = /^[^\s@<>()",;:\\[\]\p{C}]+$/u;
// The domain once in ASCII: labels of letters, digits and inner hyphens, then a top-level label
// of letters or an IDN one (`xn--…`, whose Punycode `asciiDomain` has checked).
const ASCII_DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// What may reach `domainToASCII`: ASCII letters, digits, dots and hyphens, and non-ASCII
// characters (IDNA maps or refuses them). It parses a URL host, so given `/`, `?`, `#` or `\` it
// would cut the domain short (`evil.example/x.org` → `evil.example`), `%` it would decode, and
// tabs it would drop: those must be refused before, not repaired.
const DOMAIN_INPUT = /^[A-Za-z0-9.\-\u{80}-\u{10FFFF}]+$/u;
// RFC 5321 (and RFC 6531, for UTF-8) limits, in octets.
const MAX_LOCAL_OCTETS = 64;
const MAX_DOMAIN_LENGTH = 253;
const MAX_ADDRESS_OCTETS = 254;

function invalidEmail(): PublicError {
  return new PublicError('invalid_recipient', { detail: 'to must be a valid email address' });
}

function lowerCaseNfc(text: string): string {
  return text.normalize('NFC').toLowerCase().normalize('NFC');
}

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The domain in ASCII by IDNA, or '' when it cannot be one. */
function asciiDomain(input: string): string {
  if (!DOMAIN_INPUT.test(input)) return '';
  const ascii = domainToASCII(input);
  // An A-label (`xn--…`) must be the Punycode of a valid Unicode label. Node's `domainToASCII`
  // passes one that is not (`xn--abc`) through unchanged; decoding and encoding again finds it.
  const unicode = domainToUnicode(ascii);
  if (unicode.split('.').some((label) => label.startsWith('xn--')) || domainToASCII(unicode) !== ascii) return '';
  return ascii;
}

/**
 * The normal form of an email address, or invalid_recipient: trimmed, NFC, lower-cased, the
 * domain in ASCII (`ADA@München.de` → `ada@xn--mnchen-3ya.de`). Idempotent: a normal form is its
 * own normal form.
 */
export function normalizeEmail(input: string): string {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 1) throw invalidEmail();
  const local = lowerCaseNfc(trimmed.slice(0, at));
  const domain = asciiDomain(trimmed.slice(at + 1));
  const address = `${local}@${domain}`;
  if (
    !LOCAL_PART.test(local) ||
    octets(local) > MAX_LOCAL_OCTETS ||
    domain.length > MAX_DOMAIN_LENGTH ||
    !ASCII_DOMAIN.test(domain) ||
    octets(address) > MAX_ADDRESS_OCTETS
  ) {
    throw invalidEmail();
  }
  return address;
}

/** Whether `normalizeEmail` accepts the input (the `idn-email` format of the HTTP schemas). */
export function isEmailAddress(input: string): boolean {
  try {
    normalizeEmail(input);
    return true;
  } catch {
    return false;
  }
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

/**
 * `j***@example.com`: enough for a person to recognise their address, not enough to use it. The
 * first character is a whole code point (never half a surrogate pair), and an IDN domain is shown
 * in Unicode (`a***@münchen.de`, not `xn--mnchen-3ya.de`): the masked form is read by the person
 * who typed the address (the API's `to`) and by operators, and is never compared or looked up.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const first = String.fromCodePoint(email.codePointAt(0) ?? 0x2a);
  const domain = email.slice(at + 1);
  return `${first}***@${domainToUnicode(domain) || domain}`;
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
