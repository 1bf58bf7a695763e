import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Catalogue, loadCatalogue, renderEmail, renderSms } from '@otp/messages';
import { extractCode, freePort, startService, testKeyRing, testRedisUrl, testSecret } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, type RunningSystem, startSystem } from './system.ts';

// Messages in the reader's language through real processes: the gateway picks the locale
// (the body's, else Accept-Language, else the account's), the workers write the message from the
// catalogue (shipped, with an operator's TEMPLATES_DIR laid over it) and send it through a real
// SMTP server and the Twilio-shaped server. Expected texts are rendered from the same catalogue
// here, so the assertions hold whatever the wording, and the locale must be the right one.
const APP_HASH = 'FA+9qCX9VSu';
const PRODUCT = 'Acme Bank';

describe('messages in the reader’s language, end to end', () => {
  let system: RunningSystem;
  let templates: string;
  let catalogue: Catalogue;
  const minutes = 10;

  beforeAll(async () => {
    templates = await mkdtemp(join(tmpdir(), 'otp-templates-'));
    await mkdir(join(templates, 'fr', 'email'), { recursive: true });
    // The operator rewords the French code email and brands every email.
    await writeFile(
      join(templates, 'fr', 'email', 'otp-code.json'),
      JSON.stringify({
        subject: 'Votre code {app} (message de l’opérateur)',
        intro: 'Voici votre code {app} :',
        expires: 'Il reste valable {minutes, plural, one {# minute} other {# minutes}}.',
        neverShare: 'Ne le communiquez à personne.',
        ignore: 'Vous n’avez rien demandé ? Ignorez ce message.',
      }),
    );
    await writeFile(
      join(templates, 'brand.json'),
      JSON.stringify({ productName: PRODUCT, logoUrl: 'https://bank.example/logo.png', colors: { accent: '#0a7d32' } }),
    );
    catalogue = loadCatalogue({ templatesDir: templates, defaultLocale: 'en' });
    system = await startSystem(
      { OTP_TTL_SECONDS: String(minutes * 60) },
      { TEMPLATES_DIR: templates, SMS_APP_HASH: APP_HASH },
    );
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0]);
    await rm(templates, { recursive: true, force: true });
  });

  // The attempt is recorded just after the provider took the message: wait for it.
  const attemptLocale = (challengeId: string) =>
    vi.waitFor(
      async () =>
        (
          await system.database.db
            .selectFrom('delivery_attempts')
            .select('locale')
            .where('challenge_id', '=', challengeId)
            .where('outcome', '=', 'sent')
            .executeTakeFirstOrThrow()
        ).locale,
      { timeout: 10_000 },
    );

  it('Accept-Language: de-CH gets the German email, recorded as de on the challenge and on the send', async () => {
    const to = `de-${Date.now()}@example.com`;
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to }, undefined, {
      'accept-language': 'de-CH, en;q=0.5',
    });
    expect(requested.status).toBe(202);
    const mail = await system.smtp.waitForMail(to, { timeoutMs: 15_000 });
    const code = extractCode(mail.text);
    const expected = renderEmail(catalogue, 'otp-code', 'de', PRODUCT, {
      code,
      values: { purpose: 'login', minutes },
    });
    expect(mail.subject).toBe(expected.subject);
    expect(mail.text.trim()).toBe(expected.text.trim());
    expect(mail.headers['content-language']).toBe('de');
    expect(mail.html).toContain('https://bank.example/logo.png');
    const challengeId = String(requested.body.challengeId);
    const row = await system.database.db
      .selectFrom('otp_challenges')
      .select('locale')
      .where('id', '=', challengeId)
      .executeTakeFirstOrThrow();
    expect(row.locale).toBe('de');
    expect(await attemptLocale(challengeId)).toBe('de');
  });

  it('a Brazilian Portuguese SMS through the Twilio-shaped server: one segment, the app hash, the WebOTP line last', async () => {
    const to = '+14155550177';
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'sms', to, locale: 'pt-BR' });
    expect(requested.status).toBe(202);
    const sms = await system.twilio.waitForMessage(to, { timeoutMs: 15_000 });
    const code = extractCode(sms.body);
    const expected = renderSms(
      catalogue,
      'otp-code',
      'pt-BR',
      PRODUCT,
      { code, values: { purpose: 'login', minutes } },
      { webOtpDomain: 'otp.example.com', appHash: APP_HASH },
    );
    expect(sms.body).toBe(expected.text);
    expect(sms.body.split('\n').slice(-2)).toEqual([APP_HASH, `@otp.example.com #${code}`]);
    expect(await attemptLocale(String(requested.body.challengeId))).toBe('pt-BR');
  });

  it('an unknown locale falls back to English', async () => {
    const to = `xx-${Date.now()}@example.com`;
    await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to }, undefined, { 'accept-language': 'xx' });
    const mail = await system.smtp.waitForMail(to, { timeoutMs: 15_000 });
    const expected = renderEmail(catalogue, 'otp-code', 'en', PRODUCT, { values: { purpose: 'login', minutes } });
    expect(mail.subject).toBe(expected.subject);
    expect(mail.headers['content-language']).toBe('en');
  });

  it("uses the operator's TEMPLATES_DIR file in place of the shipped one", async () => {
    const to = `fr-${Date.now()}@example.com`;
    await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to }, undefined, {
      'accept-language': 'fr-FR',
    });
    const mail = await system.smtp.waitForMail(to, { timeoutMs: 15_000 });
    expect(mail.subject).toBe(`Votre code ${PRODUCT} (message de l’opérateur)`);
    expect(mail.text).toContain('Il reste valable 10 minutes.');
    expect(mail.html).toContain('color:#0a7d32');
  });

  it('notices follow the language of the last sign-in', async () => {
    const stamp = Date.now();
    const email = `notice-${stamp}@example.com`;
    const password = 'the e2e messages password';
    const brazil = { 'accept-language': 'pt-BR' };
    const registered = await api(system, 'POST', '/v1/auth/register', { email, password }, undefined, brazil);
    const registration = await system.smtp.waitForMail(email, { timeoutMs: 15_000 });
    expect(registration.headers['content-language']).toBe('pt-BR');
    const code = extractCode(registration.text);
    expect(registration.subject).toBe(
      renderEmail(catalogue, 'otp-code', 'pt-BR', PRODUCT, { values: { purpose: 'verify_email', minutes } }).subject,
    );
    await api(system, 'POST', `/v1/otp/challenges/${String(registered.body.challengeId)}/verify`, { code });

    const signedIn = await api(system, 'POST', '/v1/auth/login', { email, password }, undefined, {
      'accept-language': 'de-DE',
    });
    expect(signedIn.status).toBe(200);
    const { accessToken } = signedIn.body.tokens as { accessToken: string };
    const after = system.smtp.messages.length;
    const changed = await api(
      system,
      'POST',
      '/v1/me/password',
      { currentPassword: password, newPassword: 'a brand new e2e password' },
      accessToken,
    );
    expect(changed.status).toBe(204);
    const notice = await system.smtp.waitForMail(email, { timeoutMs: 15_000, after });
    expect(notice.headers['content-language']).toBe('de');
    expect(notice.subject).toBe(
      renderEmail(catalogue, 'password-changed', 'de', PRODUCT, { values: { how: 'change', sessionsRevoked: 0 } })
        .subject,
    );
  });

  it('a catalogue file the gateway cannot use stops it at start, naming the file (exit 78)', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'otp-templates-'));
    await mkdir(join(broken, 'pt-BR', 'email'), { recursive: true });
    await writeFile(
      join(broken, 'pt-BR', 'email', 'account-exists.json'),
      JSON.stringify({ subject: 'Você já tem uma conta no {produto}' }),
    );
    const port = await freePort();
    const start = startService({
      name: 'gateway',
      env: {
        DATABASE_URL: system.database.url,
        REDIS_URL: testRedisUrl(),
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(await freePort()),
        GATEWAY_OPS_PORT: String(await freePort()),
        CODE_HMAC_KEY: testSecret(),
        ENVELOPE_KEYS: testKeyRing('e2e'),
        FACTOR_KEYS: testKeyRing('e2e-factor'),
        JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        SMS_ALLOWED_COUNTRIES: '*',
        TEMPLATES_DIR: broken,
      },
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
    });
    await expect(start).rejects.toThrow(/exited with 78[\s\S]*pt-BR\/email\/account-exists\.json: /);
    await rm(broken, { recursive: true, force: true });
  });
});
