// The bare equivalent of one webhook worker for `pnpm bench`: a process that signs and POSTs
// BARE_EVENTS events to BARE_URL, BARE_CONCURRENCY at a time, with the same library and body
// shape, and nothing else (no outbox, no queue, no limiter, no metrics). Exits when all were answered.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const url = process.env.BARE_URL as string;
const webhook = new Webhook(process.env.BARE_SECRET as string);
const total = Number(process.env.BARE_EVENTS);
const concurrency = Number(process.env.BARE_CONCURRENCY);
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      const id = randomUUID();
      const now = new Date();
      const body = JSON.stringify({
        type: 'user.signed_in',
        timestamp: now.toISOString(),
        data: { userId: randomUUID(), method: 'email', sessionId: randomUUID() },
      });
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': webhook.sign(id, now, body),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
    }
  }),
);
