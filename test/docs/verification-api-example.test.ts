import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateServerKey } from '@otp/gateway';
import { deliveredCode, post, uniqueEmail, uniquePhone, useTestGateway, wrongCode } from '@otp/gateway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The server of docs/verification-api.md, run as it is written (next to the gateway's package,
// which has `jose`, so its import resolves) against a gateway listening with its key.
const doc = readFileSync(new URL('../../docs/verification-api.md', import.meta.url), 'utf8');
const example = /## Example: a server[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
const file = fileURLToPath(new URL(`../../services/gateway/.verification-server-${process.pid}.mjs`, import.meta.url));
const shop = generateServerKey('shop');
const other = generateServerKey('crm');

interface ServerExample {
  startVerification(channel: string, to: string): Promise<string>;
  verifiedAddress(challengeId: string): Promise<{ channel: string; to: string } | null>;
  provenAddress(token: string, challengeId: string): Promise<{ channel: string; to: string } | null>;
  checkCode(challengeId: string, code: string): Promise<{ channel: string; to: string } | { error: string } | null>;
}

describe('the server of docs/verification-api.md', () => {
  const { gateway } = useTestGateway({ env: { API_KEYS: `${shop.entry},${other.entry}` } });
  let server: ServerExample;

  beforeAll(async () => {
    expect(example).toBeDefined();
    await writeFile(file, example ?? '');
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = gateway.app.server.address() as AddressInfo;
    Object.assign(process.env, {
      OTP_URL: `http://127.0.0.1:${port}`,
      OTP_API_KEY: shop.key,
      OTP_KEY_NAME: 'shop',
      OTP_ISSUER: gateway.config.JWT_ISSUER,
    });
    server = (await import(pathToFileURL(file).href)) as ServerExample;
  });

  afterAll(async () => {
    await rm(file, { force: true });
  });

  it('sends an email code, and reads the address proven once the page submitted the code', async () => {
    const to = uniqueEmail('reader').toLowerCase();
    const id = await server.startVerification('email', to);
    expect(await server.verifiedAddress(id)).toBeNull();
    const code = await deliveredCode(gateway, id);
    // The page posts the code itself, without the key.
    expect((await post(gateway.app, `/v1/otp/challenges/${id}/verify`, { code })).status).toBe(200);
    expect(await server.verifiedAddress(id)).toEqual({ channel: 'email', to });
  });

  it('checks an SMS code itself: a wrong code gives its error, the right one the address', async () => {
    const to = uniquePhone();
    const id = await server.startVerification('sms', to);
    const code = await deliveredCode(gateway, id);
    expect(await server.checkCode(id, wrongCode(code))).toEqual({ error: 'invalid_code' });
    expect(await server.checkCode(id, code)).toEqual({ channel: 'sms', to });
  });

  it("refuses another key's token and a token for another challenge", async () => {
    const to = uniqueEmail('crm').toLowerCase();
    const asked = await post(
      gateway.app,
      '/v1/otp/challenges',
      { channel: 'email', to },
      { headers: { authorization: `Bearer ${other.key}` } },
    );
    const id = String(asked.body.challengeId);
    const verified = await post(
      gateway.app,
      `/v1/otp/challenges/${id}/verify`,
      { code: await deliveredCode(gateway, id) },
      { headers: { authorization: `Bearer ${other.key}` } },
    );
    const token = String(verified.body.verificationToken);
    await expect(server.provenAddress(token, id)).rejects.toThrow(/aud/);
    // The shop's key does not see the crm's challenge.
    expect(await server.verifiedAddress(id)).toBeNull();
    const mine = await server.startVerification('email', uniqueEmail('mine'));
    await post(gateway.app, `/v1/otp/challenges/${mine}/verify`, { code: await deliveredCode(gateway, mine) });
    const answer = await fetch(`${process.env.OTP_URL}/v1/otp/challenges/${mine}`, {
      headers: { authorization: `Bearer ${shop.key}` },
    });
    const { verificationToken } = (await answer.json()) as { verificationToken: string };
    expect(await server.provenAddress(verificationToken, id)).toBeNull();
  });

  it('lists every claim of the token the gateway signs in its claims table', async () => {
    const id = await server.startVerification('email', uniqueEmail('claims'));
    await post(gateway.app, `/v1/otp/challenges/${id}/verify`, { code: await deliveredCode(gateway, id) });
    const answer = await fetch(`${process.env.OTP_URL}/v1/otp/challenges/${id}`, {
      headers: { authorization: `Bearer ${shop.key}` },
    });
    const { verificationToken } = (await answer.json()) as { verificationToken: string };
    const payload = JSON.parse(Buffer.from(verificationToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const section = /## The verification token\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(payload).sort());
  });
});
