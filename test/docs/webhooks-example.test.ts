import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { WebhookJobData } from '@otp/domain';
import { freePort } from '@otp/testkit';
import { sendWebhook } from '@otp/webhook-worker';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The receiver of docs/webhooks.md, run as it is written (next to the package that has
// `standardwebhooks`, so its import resolves) and called by the webhook worker's own signer.
const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
const example = /## Receiving events[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
const file = fileURLToPath(new URL(`../../services/webhook-worker/.receiver-${process.pid}.mjs`, import.meta.url));
const secret = `whsec_${randomBytes(32).toString('base64')}`;

afterAll(async () => {
  await rm(file, { force: true });
});

describe('the webhook receiver of docs/webhooks.md', () => {
  it('takes a signed event once, drops its retry, and refuses another secret', async () => {
    expect(example).toBeDefined();
    await writeFile(file, example ?? '');
    const port = await freePort();
    const receiver = spawn(process.execPath, [file], {
      env: { PATH: process.env.PATH ?? '', WEBHOOK_SECRET: secret, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    receiver.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    try {
      const url = `http://127.0.0.1:${port}/hooks/otp`;
      await vi.waitFor(async () => expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401), {
        timeout: 10_000,
      });
      const userId = randomUUID();
      const job: WebhookJobData = {
        v: 1,
        eventId: randomUUID(),
        endpointId: 'ep_docsexample00000',
        type: 'user.signed_in',
        occurredAt: new Date().toISOString(),
        data: { userId, method: 'email', sessionId: randomUUID() },
      };
      const endpoint = { url, secret };
      expect(await sendWebhook(endpoint, job, { timeoutMs: 5000 })).toEqual({ kind: 'delivered', status: 204 });
      // A retry: the same webhook-id, a fresh timestamp and signature.
      expect(await sendWebhook(endpoint, job, { timeoutMs: 5000 })).toEqual({ kind: 'delivered', status: 204 });
      const forged = { url, secret: `whsec_${randomBytes(32).toString('base64')}` };
      expect(await sendWebhook(forged, { ...job, eventId: randomUUID() }, { timeoutMs: 5000 })).toEqual({
        kind: 'retry',
        code: 'http_401',
        status: 401,
      });
      await vi.waitFor(() => expect(printed).toContain(`signed in: ${userId} by email`));
      expect(printed.split(`signed in: ${userId}`)).toHaveLength(2);
    } finally {
      receiver.kill('SIGTERM');
    }
  });
});
