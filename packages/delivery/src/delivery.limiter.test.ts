import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliverySender } from './sender.port.ts';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from './testing/index.ts';

// The provider limit is queue-wide: two workers together stay within it.
const LIMIT = { max: 4, duration: 1000 };
const JOBS = 12;
let bed: PreparedTestBed;
let fixture: DeliveryFixture;
const sends: Array<{ worker: number; at: number; challengeId: string }> = [];

function sender(worker: number): DeliverySender {
  return {
    provider: 'fake',
    async send(message) {
      sends.push({ worker, at: Date.now(), challengeId: String(message.challengeId) });
      return { providerMessageId: `fake-${sends.length}` };
    },
  };
}

beforeAll(async () => {
  bed = await prepareDeliveryTestBed({ channel: 'sms' });
  ({ fixture } = bed);
  for (const id of [1, 2]) {
    await bed.startWorker({
      sender: sender(id),
      renderers: { 'otp-code': ({ code }) => ({ text: `Your code is ${code}` }) },
      concurrency: 5,
      limiter: LIMIT,
    });
  }
});

afterAll(async () => {
  await bed?.close();
});

describe('the queue-wide provider limit', () => {
  it('holds across two workers: 12 sends at 4 per second take at least two whole windows', async () => {
    const challenges = await Promise.all(
      Array.from({ length: JOBS }, (_, i) => fixture.seedChallenge({ to: `+1415555${String(1000 + i)}` })),
    );
    const jobs = await Promise.all(challenges.map((challenge) => fixture.enqueue(challenge)));
    const outcomes = await Promise.all(jobs.map((job) => fixture.finished(job, 20_000)));

    expect(outcomes.every((outcome) => outcome.state === 'completed')).toBe(true);
    expect(new Set(sends.map((send) => send.challengeId)).size).toBe(JOBS);
    expect(sends).toHaveLength(JOBS);
    // Without the limit, 10 slots of concurrency would send all 12 at once. With it, the 12
    // sends need three windows of 4, so the last starts at least two windows after the first.
    const times = sends.map((send) => send.at).sort((a, b) => a - b);
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThanOrEqual(2 * LIMIT.duration - 100);
  });
});
