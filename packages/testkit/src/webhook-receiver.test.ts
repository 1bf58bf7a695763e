import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from './webhook-receiver.ts';

// The compose stack's webhook inbox is this receiver: people and the compose smoke test read what
// arrived with a GET.
const receiver = await startWebhookReceiver();
afterAll(() => receiver.close());

async function deliver(id: string, secret: string, type: string) {
  const body = JSON.stringify({ type, timestamp: '2026-12-09T10:00:00.000Z', data: { userId: 'u1' } });
  const timestamp = new Date();
  const signature = new Webhook(secret).sign(id, timestamp, body);
  return fetch(receiver.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  });
}

describe('the webhook receiver', () => {
  it('lists the events it took, once each, on a GET; a bad signature is refused and not listed', async () => {
    expect((await deliver('msg_1', receiver.secret, 'user.signed_in')).status).toBe(200);
    expect((await deliver('msg_1', receiver.secret, 'user.signed_in')).status).toBe(200);
    const other = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect((await deliver('msg_2', other, 'user.created')).status).toBe(401);

    const listed = await (await fetch(receiver.url)).json();
    expect(listed).toEqual([
      {
        id: 'msg_1',
        type: 'user.signed_in',
        timestamp: '2026-12-09T10:00:00.000Z',
        verified: true,
        data: { userId: 'u1' },
      },
    ]);
    expect(receiver.requests).toHaveLength(3);
  });
});
