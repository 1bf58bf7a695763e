import { checkVariable } from '@otp/domain';
import { Webhook } from 'standardwebhooks';

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
// HMAC-SHA256 keys shorter than this are guessable in principle; Standard Webhooks asks for 24 to 64 bytes.
const MIN_SECRET_BYTES = 24;

/** localhost, 127.0.0.0/8 or ::1 (the URL parser has already normalised other spellings of these). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * A send hook's URL, or a ConfigError naming the variable. The messages carry addresses and codes
 * in clear, so they travel over TLS: plain http only to this machine, or when the operator says so
 * (`allowHttp`, e.g. a sidecar on a private network). The value is never in the error: its query
 * may hold a token.
 */
export function checkHookUrl(name: string, url: string, allowHttp: boolean): string {
  return checkVariable(name, () => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('is not a URL');
    }
    // fetch refuses such a URL; credentials belong in the signature, not the URL.
    if (parsed.username !== '' || parsed.password !== '') throw new Error('must not hold a user name or password');
    if (parsed.protocol === 'https:') return url;
    if (parsed.protocol !== 'http:') throw new Error('must be an https: URL');
    if (allowHttp || isLoopback(parsed.hostname)) return url;
    throw new Error('must be an https: URL (http: only to localhost, 127.0.0.0/8 or [::1], unless http is allowed)');
  });
}

/** A Standard Webhooks secret (`whsec_` and base64 of at least 24 bytes), or a ConfigError naming the variable. */
export function checkHookSecret(name: string, secret: string): string {
  return checkVariable(name, () => {
    const base64 = SECRET.exec(secret)?.[1];
    // Padded base64 only: a decoder quietly drops a ragged tail, and the hook's decoder may drop
    // it differently, leaving the two sides with different keys.
    if (base64 === undefined || base64.length % 4 !== 0) throw new Error('must be whsec_ followed by base64');
    if (Buffer.from(base64, 'base64').length < MIN_SECRET_BYTES) {
      throw new Error(`must decode to at least ${MIN_SECRET_BYTES} bytes`);
    }
    try {
      // The signer must take it as well: it is what reads the secret when the worker starts.
      new Webhook(secret);
    } catch {
      throw new Error('is not a valid Standard Webhooks secret');
    }
    return secret;
  });
}
