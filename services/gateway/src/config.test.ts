import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, trustProxySetting } from '@otp/domain';
import { catalogueFromConfig } from '@otp/messages';
import { createLogger } from '@otp/runtime';
import { testKeyRing, testSecret } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { JWT_ALGORITHMS } from './accounts/auth/signing-key.ts';
import { parseGatewayConfig } from './config.ts';
import { generateAdminKey, generateServerKey, hashKey } from './http/bearer-keys.ts';
import { ed25519Pem, publicKeyPem, signingKeyPem } from './testing/gateway.harness.ts';
import { useTestTemplatesDir } from './testing/messages.ts';
import { createGatewayDeps } from './wiring.ts';

const required = () => ({
  DATABASE_URL: 'postgres://otp@localhost:5432/otp',
  REDIS_URL: 'redis://localhost:6379',
  CODE_HMAC_KEY: testSecret(),
  ENVELOPE_KEYS: testKeyRing(),
  FACTOR_KEYS: testKeyRing('factor'),
  JWT_PRIVATE_KEY: ed25519Pem(),
  SMS_ALLOWED_COUNTRIES: 'GB,IE',
});

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseGatewayConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway configuration', () => {
  it("defaults to DESIGN.md's production values", () => {
    const config = parseGatewayConfig(required());
    expect(config).toMatchObject({
      HOST: '0.0.0.0',
      PORT: 3000,
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: '{otp}',
      TRUST_PROXY: '',
      JWT_ISSUER: 'http://localhost:3000',
      JWT_AUDIENCE: 'otp',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      OTP_CODE_LENGTH: 6,
      TOTP_ISSUER: 'OTP',
      HOTP_LOOK_AHEAD: 10,
      FACTOR_LOCKOUT_FAILURES: 100,
      OTP_TTL_SECONDS: 600,
      OTP_MAX_ATTEMPTS: 5,
      OTP_RESEND_COOLDOWN_SECONDS: 30,
      OTP_MAX_SENDS: 5,
      OTP_RECIPIENT_LIMIT: 5,
      OTP_RECIPIENT_WINDOW_SECONDS: 600,
      OTP_RECIPIENT_MAX_FAILURES: 10,
      OTP_RECIPIENT_FAILURE_WINDOW_SECONDS: 3600,
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: 30,
      RATE_LIMIT_VERIFICATIONS_PER_MINUTE: 60,
      SIGNUP_ENABLED: true,
      DEFAULT_LOCALE: 'en',
      DELIVERY_ATTEMPTS: 6,
      DELIVERY_BACKOFF_MS: 2000,
      RELAY_INTERVAL_MS: 1000,
      RELAY_BATCH_SIZE: 100,
      BODY_LIMIT_BYTES: 16_384,
      SHUTDOWN_TIMEOUT_MS: 20_000,
      SHUTDOWN_DRAIN_MS: 5000,
      JWT_PREVIOUS_PUBLIC_KEY: '',
      REFRESH_TOKEN_IDLE_SECONDS: 604_800,
      MFA_TOKEN_TTL_SECONDS: 300,
      MFA_MAX_ATTEMPTS: 5,
      PASSWORD_MEMORY_KIB: 19_456,
      PASSWORD_TIME_COST: 2,
      PASSWORD_PARALLELISM: 1,
      SIGN_IN_FAILURES_PER_ACCOUNT: 10,
      SIGN_IN_FAILURES_PER_IP: 50,
      SIGN_IN_FAILURE_WINDOW_SECONDS: 900,
      CORS_ORIGINS: '',
      SMS_ALLOWED_NUMBER_TYPES: 'MOBILE,FIXED_LINE_OR_MOBILE',
      SMS_ALLOW_NON_GEOGRAPHIC: false,
      SMS_RANGE_DIGITS: 4,
      SMS_RANGE_LIMIT_PER_HOUR: 300,
      SMS_COUNTRY_LIMIT_PER_HOUR: 3000,
      SMS_DAILY_BUDGET: 10_000,
      SMS_DAILY_BUDGET_BY_COUNTRY: '',
      SMS_RANGE_CONVERSION_SAMPLE: 20,
      SMS_COUNTRY_CONVERSION_SAMPLE: 200,
      SMS_MIN_CONVERSION: 0.2,
      SMS_SUSPEND_SECONDS: 3600,
    });
    expect(config.CAPTCHA_PROVIDER).toBeUndefined();
    expect(trustProxySetting(config.TRUST_PROXY)).toBe(false);
  });

  it('converts strings from the environment', () => {
    const config = parseGatewayConfig({ ...required(), PORT: '8080', SIGNUP_ENABLED: 'false', OTP_CODE_LENGTH: '8' });
    expect(config).toMatchObject({ PORT: 8080, SIGNUP_ENABLED: false, OTP_CODE_LENGTH: 8 });
    expect(trustProxySetting(' 10.0.0.1, 10.1.0.0/16 ,')).toEqual(['10.0.0.1', '10.1.0.0/16']);
  });

  it('names a missing variable', () => {
    const { DATABASE_URL: _omitted, ...rest } = required();
    expect(problemsOf(rest).join('\n')).toMatch(/DATABASE_URL/);
    expect(problemsOf({}).join('\n')).toMatch(/REDIS_URL/);
  });

  it('takes a cluster or Sentinels instead of REDIS_URL, and names the Redis variables that clash', () => {
    const { REDIS_URL: _omitted, ...rest } = required();
    expect(parseGatewayConfig({ ...rest, REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' })).toMatchObject({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000',
      QUEUE_PREFIX: '{otp}',
    });
    expect(
      problemsOf({ ...rest, REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' }),
    ).toEqual(['REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (a cluster or a Sentinel-managed master)']);
    expect(problemsOf({ ...rest, REDIS_SENTINELS: 'b:2' })).toEqual([
      'REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set',
    ]);
    expect(problemsOf({ ...rest, REDIS_CLUSTER_NODES: 'no-port' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES: /),
    ]);
    expect(problemsOf({ ...rest, REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: 'otp' })).toEqual([
      'QUEUE_PREFIX: must contain a {hash tag} with REDIS_CLUSTER_NODES, e.g. {otp}',
    ]);
    // Never the password in a message.
    expect(problemsOf({ ...rest, REDIS_PASSWORD: 'hunter2-secret' }).join('\n')).not.toContain('hunter2');
  });

  it('will not start without the countries SMS may go to, and names bad SMS settings', () => {
    const { SMS_ALLOWED_COUNTRIES: _omitted, ...rest } = required();
    expect(problemsOf(rest)).toEqual(['SMS_ALLOWED_COUNTRIES: required but not set']);
    const problems = problemsOf({
      ...required(),
      SMS_ALLOWED_COUNTRIES: 'GB,France',
      SMS_ALLOWED_NUMBER_TYPES: 'MOBILE,SATELLITE',
      SMS_DAILY_BUDGET_BY_COUNTRY: 'GB=5',
      SMS_MIN_CONVERSION: '1.5',
      CAPTCHA_PROVIDER: 'turnstile',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['SMS_MIN_CONVERSION']);
    const checked = problemsOf({
      ...required(),
      SMS_ALLOWED_COUNTRIES: 'GB,France',
      SMS_ALLOWED_NUMBER_TYPES: 'MOBILE,SATELLITE',
      SMS_DAILY_BUDGET_BY_COUNTRY: 'GB=5',
      CAPTCHA_PROVIDER: 'turnstile',
    });
    expect(checked.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'CAPTCHA_SECRET',
      'SMS_ALLOWED_COUNTRIES',
      'SMS_ALLOWED_NUMBER_TYPES',
      'SMS_DAILY_BUDGET_BY_COUNTRY',
    ]);
  });

  it('names bad values, never echoing a secret', () => {
    const shortKey = Buffer.from('too short').toString('base64');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const problems = problemsOf({
      ...required(),
      CODE_HMAC_KEY: shortKey,
      ENVELOPE_KEYS: 'k1:c2hvcnQ=',
      FACTOR_KEYS: 'f1:c2hvcnQ=',
      JWT_PRIVATE_KEY: rsa,
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'CODE_HMAC_KEY',
      'ENVELOPE_KEYS',
      'FACTOR_KEYS',
      'JWT_PRIVATE_KEY',
    ]);
    const text = problems.join('\n');
    expect(text).not.toContain(shortKey);
    expect(text).not.toContain('c2hvcnQ=');
    expect(text).not.toContain(rsa.split('\n')[1] as string);

    expect(problemsOf({ ...required(), OTP_CODE_LENGTH: '5' }).join('\n')).toMatch(/OTP_CODE_LENGTH/);
    expect(problemsOf({ ...required(), PORT: 'eighty' }).join('\n')).toMatch(/PORT/);
    expect(problemsOf({ ...required(), DATABASE_URL: 'mysql://x' }).join('\n')).toMatch(/DATABASE_URL/);
  });

  it('refuses Argon2id costs under OWASP minimum and a previous key that is not a public key', () => {
    expect(problemsOf({ ...required(), PASSWORD_MEMORY_KIB: '4096' }).join('\n')).toMatch(/PASSWORD_MEMORY_KIB/);
    expect(problemsOf({ ...required(), PASSWORD_TIME_COST: '1' }).join('\n')).toMatch(/PASSWORD_TIME_COST/);
    const privatePem = ed25519Pem();
    const problems = problemsOf({ ...required(), JWT_PREVIOUS_PUBLIC_KEY: privatePem }).join('\n');
    expect(problems).toMatch(/JWT_PREVIOUS_PUBLIC_KEY/);
    expect(problems).not.toContain(privatePem.split('\n')[1] as string);
  });

  it('stops on a signing key of another kind than JWT_ALGORITHM, naming JWT_PRIVATE_KEY and never the key', () => {
    const pems = { EdDSA: signingKeyPem('EdDSA'), ES256: signingKeyPem('ES256'), RS256: signingKeyPem('RS256') };
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    for (const alg of JWT_ALGORITHMS) {
      expect(parseGatewayConfig({ ...required(), JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: pems[alg] }).JWT_ALGORITHM).toBe(
        alg,
      );
      for (const pem of [...Object.values(pems).filter((other) => other !== pems[alg]), p384, rsa1024]) {
        const problems = problemsOf({ ...required(), JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: pem });
        expect(problems.map((problem) => problem.split(':')[0])).toEqual(['JWT_PRIVATE_KEY']);
        expect(problems.join('\n')).not.toContain(pem.split('\n')[1] as string);
      }
    }
    // EdDSA is the default: an EC key alone is refused, as before JWT_ALGORITHM existed.
    expect(problemsOf({ ...required(), JWT_PRIVATE_KEY: pems.ES256 }).join('\n')).toMatch(/JWT_PRIVATE_KEY.*EdDSA/);
    expect(problemsOf({ ...required(), JWT_ALGORITHM: 'HS256' }).join('\n')).toMatch(/JWT_ALGORITHM/);
  });

  it('takes a previous key of any of the three kinds, and refuses another (P-384, RSA under 2048 bits)', () => {
    for (const alg of JWT_ALGORITHMS) {
      const previous = publicKeyPem(signingKeyPem(alg));
      expect(() => parseGatewayConfig({ ...required(), JWT_PREVIOUS_PUBLIC_KEY: previous })).not.toThrow();
    }
    for (const pair of [
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      generateKeyPairSync('ed448'),
    ]) {
      const previous = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const problems = problemsOf({ ...required(), JWT_PREVIOUS_PUBLIC_KEY: previous });
      expect(problems.map((problem) => problem.split(':')[0])).toEqual(['JWT_PREVIOUS_PUBLIC_KEY']);
      expect(problems.join('\n')).not.toContain(previous.split('\n')[1] as string);
    }
  });

  it('keeps the drain period of a rolling restart inside the shutdown deadline', () => {
    expect(parseGatewayConfig({ ...required(), SHUTDOWN_DRAIN_MS: '0' }).SHUTDOWN_DRAIN_MS).toBe(0);
    expect(
      parseGatewayConfig({ ...required(), SHUTDOWN_DRAIN_MS: '9000', SHUTDOWN_TIMEOUT_MS: '30000' }),
    ).toMatchObject({ SHUTDOWN_DRAIN_MS: 9000, SHUTDOWN_TIMEOUT_MS: 30_000 });
    expect(problemsOf({ ...required(), SHUTDOWN_DRAIN_MS: '16000' })).toEqual([
      expect.stringMatching(/^SHUTDOWN_DRAIN_MS: .*SHUTDOWN_TIMEOUT_MS/),
    ]);
    expect(problemsOf({ ...required(), SHUTDOWN_DRAIN_MS: '-1' }).join('\n')).toMatch(/SHUTDOWN_DRAIN_MS/);
  });

  it('takes the admin API keys as name:hash entries and stops on a malformed one, naming ADMIN_API_KEYS', () => {
    const config = parseGatewayConfig(required());
    expect(config).toMatchObject({ ADMIN_PORT: 3002, ADMIN_API_KEYS: '', ADMIN_AUTH_FAILURES_PER_MINUTE: 20 });
    expect(config.ADMIN_HOST).toBeUndefined();
    const alice = generateAdminKey('alice');
    const bob = generateAdminKey('support.bob-2');
    expect(() => parseGatewayConfig({ ...required(), ADMIN_API_KEYS: `${alice.entry}, ${bob.entry}` })).not.toThrow();
    const hash = alice.entry.split(':')[1] as string;
    for (const bad of [
      'alice', // no hash
      `Alice:${hash}`, // upper case in the name
      `alice:${hash.slice(1)}`, // a hash of the wrong length
      `alice:${hash}:x`,
      `alice:${hash},alice:${bob.entry.split(':')[1]}`, // a name twice
      `alice:${hash},`, // an empty entry
      alice.key, // the key itself instead of its entry
    ]) {
      const problems = problemsOf({ ...required(), ADMIN_API_KEYS: bad });
      expect(
        problems.map((problem) => problem.split(':')[0]),
        bad,
      ).toEqual(['ADMIN_API_KEYS']);
      expect(problems.join('\n')).not.toContain(hash);
    }
  });

  it('accepts the signing key on one line with literal \\n sequences', () => {
    const oneLine = ed25519Pem().trim().replaceAll('\n', '\\n');
    expect(oneLine).not.toContain('\n');
    expect(() => parseGatewayConfig({ ...required(), JWT_PRIVATE_KEY: oneLine })).not.toThrow();
    const jsonEncoded = JSON.stringify(ed25519Pem());
    expect(() => parseGatewayConfig({ ...required(), JWT_PRIVATE_KEY: jsonEncoded })).not.toThrow();
  });
});

describe('the message catalogue at start', () => {
  const templates = useTestTemplatesDir(['it']);
  const broken = useTestTemplatesDir(['fr']);
  const badFile = join(broken, 'fr', 'email', 'otp-code.json');
  writeFileSync(badFile, '{ "subject": ');

  /** The problems of loading the catalogue of these settings (a ConfigError, as a bad variable is). */
  function catalogueProblems(env: Record<string, string>): string[] {
    try {
      catalogueFromConfig(parseGatewayConfig({ ...required(), ...env }));
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it("takes TEMPLATES_DIR's locales beside the shipped ones; DEFAULT_LOCALE may be any of them", () => {
    const catalogue = catalogueFromConfig(
      parseGatewayConfig({ ...required(), TEMPLATES_DIR: templates, DEFAULT_LOCALE: 'it' }),
    );
    expect(catalogue.locales).toEqual(['de', 'en', 'es', 'fr', 'it', 'pt-BR']);
    expect(catalogue.resolve(['xx'])).toBe('it');
  });

  it('stops on a DEFAULT_LOCALE without a catalogue, naming the variable', () => {
    const problems = catalogueProblems({ DEFAULT_LOCALE: 'nl' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DEFAULT_LOCALE: nl has no catalogue/);
  });

  it('stops on a TEMPLATES_DIR that is no folder, or holds a file it cannot use, naming it', () => {
    expect(catalogueProblems({ TEMPLATES_DIR: join(templates, 'nowhere') })[0]).toMatch(/^TEMPLATES_DIR: /);
    const problems = catalogueProblems({ TEMPLATES_DIR: broken });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(badFile);
    mkdirSync(join(templates, 'it', 'push'));
    try {
      expect(catalogueProblems({ TEMPLATES_DIR: templates })[0]).toContain(join(templates, 'it', 'push'));
    } finally {
      rmdirSync(join(templates, 'it', 'push'));
    }
  });

  it('stops building the deps before any client is made', async () => {
    const config = parseGatewayConfig({ ...required(), TEMPLATES_DIR: broken });
    await expect(createGatewayDeps(config, createLogger({ service: 'test', level: 'silent' }))).rejects.toThrow(
      ConfigError,
    );
  });

  it('stops at a bad API_KEYS naming it, never quoting a hash: malformed, a name twice, the JWT_AUDIENCE, an admin key', () => {
    const shop = generateServerKey('shop');
    const hash = hashKey(shop.key);
    const problemOf = (env: Record<string, string>) => problemsOf({ ...required(), ...env }).join('\n');
    expect(problemOf({ API_KEYS: 'shop' })).toMatch(/^API_KEYS: entry 1 must be name:hash/);
    expect(problemOf({ API_KEYS: `${shop.entry},${shop.entry}` })).toMatch(/^API_KEYS: the name shop is used twice/);
    const audience = problemOf({ API_KEYS: `otp:${hash}`, JWT_AUDIENCE: 'otp' });
    expect(audience).toMatch(/^API_KEYS: the name otp is JWT_AUDIENCE/);
    const shared = problemOf({ API_KEYS: shop.entry, ADMIN_API_KEYS: `ops:${hash}` });
    expect(shared).toMatch(/^API_KEYS: the key of shop is also an admin API key/);
    for (const message of [audience, shared]) expect(message).not.toContain(hash);
    expect(parseGatewayConfig({ ...required(), API_KEYS: shop.entry }).API_KEYS).toBe(shop.entry);
  });

  it('refuses in production a localhost issuer or public URL, naming each; development keeps the localhost default', () => {
    const production = { ...required(), OTP_ENV: 'production' };
    expect(problemsOf(production)).toEqual([
      "JWT_ISSUER: names localhost: set the gateway's public URL (OTP_ENV=production)",
    ]);
    expect(
      problemsOf({ ...production, JWT_ISSUER: 'https://otp.example.com', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' }),
    ).toEqual([
      "PUBLIC_BASE_URL: names localhost: set the gateway's public URL, or leave it unset (OTP_ENV=production)",
    ]);
    expect(parseGatewayConfig({ ...production, JWT_ISSUER: 'https://otp.example.com' }).OTP_ENV).toBe('production');
    expect(parseGatewayConfig(required()).JWT_ISSUER).toBe('http://localhost:3000');
  });
});
