import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  combineAmr,
  FIRST_FACTOR_AMR,
  type FirstFactorMethod,
  JWT_ALGORITHMS,
  parseGatewayConfig,
  SECOND_FACTOR_AMR,
  type SecondFactorMethod,
} from '@otp/gateway';
import { loginTokens, registerUser, useListeningGateway } from '@otp/gateway/testing';
import { freePort, testKeyRing, testSecret } from '@otp/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';

// docs/tokens.md against the code and a running gateway: its tables, its openssl commands, its
// discovery example and its resource server, run as it is written.
const doc = readFileSync(new URL('../../docs/tokens.md', import.meta.url), 'utf8');

/** The text of a `## ` section, up to the next one. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}`);
  expect(start, `docs/tokens.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** The body rows of the first table in `text`, as trimmed cells. */
function tableRows(text: string): string[][] {
  const rows = text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  return rows.slice(2);
}

/** A JWT's claims, read without checking (the gateway signed it in this test). */
const decodeJwt = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
const unquote = (cell: string) => cell.replace(/^`|`$/g, '');
const CONTACT = ['email', 'email_verified', 'phone_number', 'phone_number_verified'];

describe('docs/tokens.md', () => {
  it('shows the amr of every first and second factor as the code computes it', () => {
    const first: Record<string, FirstFactorMethod> = { 'email code': 'email', 'SMS code': 'sms', password: 'password' };
    const second: Record<string, SecondFactorMethod | null> = {
      none: null,
      'TOTP or HOTP': 'code',
      'recovery code': 'recovery_code',
    };
    const rows = tableRows(section('amr'));
    const shown = rows.map(([firstLabel = '', secondLabel = '', amr = '']) => {
      const firstMethod = first[firstLabel];
      const secondMethod = second[secondLabel];
      expect(firstMethod, `first factor "${firstLabel}"`).toBeDefined();
      expect(secondMethod, `second factor "${secondLabel}"`).toBeDefined();
      const base = [...FIRST_FACTOR_AMR[firstMethod as FirstFactorMethod]];
      const expected = secondMethod == null ? base : combineAmr(base, secondMethod);
      expect(JSON.parse(unquote(amr)), `${firstLabel} + ${secondLabel}`).toEqual(expected);
      return `${firstMethod}+${secondMethod}`;
    });
    // Every combination, once: the table is the whole of the code's.
    const all = Object.keys(FIRST_FACTOR_AMR).flatMap((f) =>
      [null, ...Object.keys(SECOND_FACTOR_AMR)].map((s) => `${f}+${s}`),
    );
    expect(shown.sort()).toEqual(all.sort());
  });

  describe('against a gateway', () => {
    const listening = useListeningGateway({ JWT_INCLUDE_CONTACT_CLAIMS: 'true' });
    const { gateway } = listening;
    const example = /## Verifying tokens in your service[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
    // Next to the gateway's package, which has `jose`, so the example's import resolves.
    const file = fileURLToPath(new URL(`../../services/gateway/.whoami-${process.pid}.mjs`, import.meta.url));

    afterAll(async () => {
      await rm(file, { force: true });
    });

    async function discovery(): Promise<Record<string, unknown>> {
      return (await fetch(`${listening.url}/.well-known/openid-configuration`)).json() as Promise<
        Record<string, unknown>
      >;
    }

    it('lists every claim a token carries, and the discovery document lists the same', async () => {
      const claims = tableRows(section('The access token')).map(([name = '']) => unquote(name));
      expect(claims.sort()).toEqual([...((await discovery()).claims_supported as string[])].sort());
      const { email } = await registerUser(gateway, 'tokens-doc');
      const { accessToken } = await loginTokens(gateway, email);
      expect(Object.keys(decodeJwt(accessToken)).filter((name) => !claims.includes(name))).toEqual([]);
    });

    it('shows the discovery document the gateway answers', async () => {
      const shown = JSON.parse(/## Discovery[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1] ?? '{}');
      const real = await discovery();
      expect(Object.keys(shown).sort()).toEqual(Object.keys(real).sort());
      expect(shown.jwks_uri).toBe(`${shown.issuer}/.well-known/jwks.json`);
      expect(real.jwks_uri).toBe(`${real.issuer}/.well-known/jwks.json`);
      expect(shown.subject_types_supported).toEqual(real.subject_types_supported);
      // The example is of the default settings: no contact claims.
      expect(shown.claims_supported).toEqual((real.claims_supported as string[]).filter((c) => !CONTACT.includes(c)));
    });

    it('runs the resource server example: the caller of a valid token, 401 otherwise', async () => {
      expect(example).toBeDefined();
      await writeFile(file, example ?? '');
      const port = await freePort();
      const server = spawn(process.execPath, [file], {
        env: {
          PATH: process.env.PATH ?? '',
          OTP_ISSUER: gateway.config.JWT_ISSUER,
          OTP_AUDIENCE: gateway.config.JWT_AUDIENCE,
          PORT: String(port),
        },
        stdio: 'inherit',
      });
      try {
        const whoami = (token?: string) =>
          fetch(`http://127.0.0.1:${port}/whoami`, {
            headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          });
        await vi.waitFor(async () => expect((await whoami()).status).toBe(401), { timeout: 10_000 });
        const { email, userId } = await registerUser(gateway, 'tokens-example');
        const { accessToken } = await loginTokens(gateway, email);
        const answer = await whoami(accessToken);
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ userId, sessionId: decodeJwt(accessToken).sid, amr: ['pwd'] });
        const [header, payload] = accessToken.split('.');
        expect((await whoami(`${header}.${payload}.`)).status).toBe(401);
      } finally {
        server.kill('SIGTERM');
      }
    });
  });

  describe('its openssl commands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-doc-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const sh = (command: string) => execFileSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
    const env = (settings: Record<string, string>) => ({
      DATABASE_URL: 'postgres://otp@localhost:5432/otp',
      REDIS_URL: 'redis://localhost:6379',
      CODE_HMAC_KEY: testSecret(),
      ENVELOPE_KEYS: testKeyRing(),
      FACTOR_KEYS: testKeyRing('factor'),
      SMS_ALLOWED_COUNTRIES: 'GB',
      ...settings,
    });
    const rows = tableRows(section('Algorithms and keys'));

    it('make a key of each algorithm that the gateway takes, on one line too, and its public half for a rotation', () => {
      expect(rows.map(([alg = '']) => /`(\w+)`/.exec(alg)?.[1]).sort()).toEqual([...JWT_ALGORITHMS].sort());
      const oneLine = /```sh\n(awk [^\n]*)\n```/.exec(doc)?.[1] ?? '';
      const pubout = /```sh\n\s*(openssl pkey [^\n]*)\n/.exec(doc)?.[1] ?? '';
      expect(oneLine).not.toBe('');
      expect(pubout).not.toBe('');
      for (const [algCell = '', , command = ''] of rows) {
        const alg = /`(\w+)`/.exec(algCell)?.[1] ?? '';
        sh(`rm -f jwt.pem old-jwt.pem old-jwt.pub.pem && ${unquote(command)}`);
        const pem = readFileSync(join(dir, 'jwt.pem'), 'utf8');
        expect(() => parseGatewayConfig(env({ JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: pem })), alg).not.toThrow();
        const flat = sh(oneLine);
        expect(flat).not.toContain('\n');
        expect(() => parseGatewayConfig(env({ JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: flat })), alg).not.toThrow();
        sh(`cp jwt.pem old-jwt.pem && ${pubout}`);
        const previous = readFileSync(join(dir, 'old-jwt.pub.pem'), 'utf8');
        // The previous key of any kind, under any algorithm: here EdDSA signs, the old key is `alg`'s.
        const rotated = env({
          JWT_PRIVATE_KEY: sh('openssl genpkey -algorithm ed25519'),
          JWT_PREVIOUS_PUBLIC_KEY: previous,
        });
        expect(() => parseGatewayConfig(rotated), alg).not.toThrow();
      }
    });
  });
});
