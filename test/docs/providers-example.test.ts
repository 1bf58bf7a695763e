import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createHookSender, DeliveryError } from '@otp/delivery';
import { freePort } from '@otp/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The receiver of docs/providers.md, run as it is written (next to the package that has
// `standardwebhooks`, so its import resolves) and called by the worker's own hook sender.
const doc = readFileSync(new URL('../../docs/providers.md', import.meta.url), 'utf8');
const example = /A receiver verifies the signature[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
const file = fileURLToPath(new URL(`../../packages/delivery/.receiver-${process.pid}.mjs`, import.meta.url));
const secret = `whsec_${randomBytes(32).toString('base64')}`;

afterAll(async () => {
  await rm(file, { force: true });
});

describe('the send hook receiver of docs/providers.md', () => {
  it('takes a signed message, answers its id, deduplicates a retry, and refuses another secret', async () => {
    expect(example).toBeDefined();
    await writeFile(file, example ?? '');
    const port = await freePort();
    const receiver = spawn(process.execPath, [file], {
      env: { PATH: process.env.PATH ?? '', SMS_HOOK_SECRET: secret, PORT: String(port) },
      stdio: 'inherit',
    });
    try {
      const url = `http://127.0.0.1:${port}/otp/sms`;
      // Listening once an unsigned request gets the receiver's 401.
      await vi.waitFor(async () => expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401), {
        timeout: 10_000,
      });
      const message = {
        channel: 'sms' as const,
        to: '+14155550123',
        toMasked: '+*******0123',
        challengeId: '7b0c3e1e-4f0a-4c39-9d3c-2f1a9b2f5e10',
        sendNumber: 1,
        purpose: 'login',
        locale: 'en',
        text: 'Your Acme code is 482913.\n\n@acme.example #482913',
      };
      const sender = createHookSender({ url, secret });
      const first = await sender.send(message);
      expect(first.providerMessageId).toBe(`${message.challengeId}.1`);
      expect((await sender.send(message)).providerMessageId).toBe(first.providerMessageId);
      const forged = createHookSender({ url, secret: `whsec_${randomBytes(32).toString('base64')}` });
      const refused = await forged.send(message).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DeliveryError);
      expect((refused as DeliveryError).kind).toBe('provider_auth');
    } finally {
      receiver.kill('SIGTERM');
    }
  });
});
