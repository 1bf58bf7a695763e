import { createHash, createHmac, createPrivateKey, randomBytes } from 'node:crypto';

/** Every secret a stack's services share. Test values: never use them for anything real. */
export interface StackSecrets {
  postgresPassword: string;
  codeHmacKey: string;
  envelopeKeys: string;
  factorKeys: string;
  jwtPrivateKeyPem: string;
  twilioAccountSid: string;
  twilioAuthToken: string;
  /** The stack's own admin API key (configured as `testcontainers` unless `adminApiKeys` is given). */
  adminApiKey: string;
  /** The key the dashboard (`withDashboard()`) calls the admin API with, configured as `dashboard`. */
  dashboardAdminKey: string;
  dashboardPassword: string;
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): the DER header before the seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Fresh random secrets, or, for a reusable stack, secrets derived from its key: a reused container
 * is found by the hash of its whole configuration, environment included, so the values must be
 * the same on every start.
 */
export function stackSecrets(reuseKey?: string): StackSecrets {
  const bytes =
    reuseKey === undefined
      ? (_label: string, length: number) => randomBytes(length)
      : (label: string, length: number) =>
          createHmac('sha256', `otp-testcontainers reuse ${reuseKey}`).update(label).digest().subarray(0, length);
  const seed = bytes('jwt', 32);
  const jwtPrivateKeyPem = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return {
    postgresPassword: bytes('postgres', 16).toString('hex'),
    codeHmacKey: bytes('code-hmac', 32).toString('base64'),
    envelopeKeys: `tc1:${bytes('envelope', 32).toString('base64')}`,
    factorKeys: `tc1:${bytes('factor', 32).toString('base64')}`,
    jwtPrivateKeyPem,
    twilioAccountSid: `AC${bytes('twilio-sid', 16).toString('hex')}`,
    twilioAuthToken: bytes('twilio-token', 16).toString('hex'),
    adminApiKey: `otpa_${bytes('admin-key', 32).toString('base64url')}`,
    dashboardAdminKey: `otpa_${bytes('dashboard-admin-key', 32).toString('base64url')}`,
    dashboardPassword: bytes('dashboard', 16).toString('hex'),
  };
}

/** The ADMIN_API_KEYS entry of a key (`name:` and the base64url SHA-256 of the key), as the gateway reads it. */
export function adminKeyEntry(name: string, key: string): string {
  return `${name}:${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}
