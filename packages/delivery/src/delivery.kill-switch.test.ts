import { findNotification, listDeliveryAttempts, setKillSwitch } from '@otp/db';
import { createMetricsRegistry } from '@otp/runtime';
import { parseExposition, sampleValue } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { useDeliveryTestBed } from './testing/index.ts';

// The email side of the kill switches: a code and a security notice queued while `email` (or the
// SMTP provider) is off wait without a record or a used attempt, and go out once it is on again.
const registry = createMetricsRegistry('email-worker');
const bed = useDeliveryTestBed({
  provider: 'smtp',
  worker: { metricsRegistry: registry, killSwitchRefreshMs: 100, killSwitchHoldMs: 200 },
});

/** Processings that ended held by a kill switch so far, as the worker's /metrics shows them. */
async function held(): Promise<number> {
  return sampleValue(parseExposition(await registry.metrics()), 'otp_sends_total', { outcome: 'held' });
}

/** A code and a notice queued while the queue is paused, then `target` switched off and the queue resumed. */
async function queuedThenSwitchedOff(target: string) {
  const { fixture, database, worker } = bed;
  await fixture.queue.pause();
  const challenge = await fixture.seedChallenge({ to: `code.${target.replace(':', '-')}@example.com` });
  const code = await fixture.enqueue(challenge, { attempts: 1 });
  const notice = await fixture.seedNotice({ to: `notice.${target.replace(':', '-')}@example.com` });
  const noticeJob = await fixture.enqueueNotice(notice, { attempts: 1 });
  await setKillSwitch(database.db, target, true, 'test-operator');
  await worker.killSwitches.refresh();
  await fixture.queue.resume();
  return { challenge, code, notice, noticeJob };
}

describe.each(['email', 'provider:smtp'])('email jobs while %s is off', (target) => {
  it('hold codes and notices, then send each once when it is on again', async () => {
    const { fixture, database, worker, sender } = bed;
    const [heldBefore, callsBefore] = [await held(), sender.calls];
    const { challenge, code, notice, noticeJob } = await queuedThenSwitchedOff(target);
    // Taken, held, back in line, taken and held again: the queue waits out each hold.
    await expect.poll(held, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(heldBefore + 2);
    expect(sender.calls).toBe(callsBefore);
    expect(await listDeliveryAttempts(database.db, challenge.id)).toEqual([]);
    expect(await findNotification(database.db, notice.id)).toMatchObject({ status: 'queued', attempts: 0 });

    await setKillSwitch(database.db, target, false, 'test-operator');
    await worker.killSwitches.refresh();
    expect(await fixture.finished(code)).toMatchObject({ state: 'completed' });
    expect(await fixture.finished(noticeJob)).toMatchObject({ state: 'completed' });
    const mine = sender.sent.filter((message) =>
      [challenge.id, notice.id].includes(String(message.challengeId ?? message.notificationId)),
    );
    expect(mine.map((message) => message.challengeId ?? message.notificationId).sort()).toEqual(
      [challenge.id, notice.id].sort(),
    );
  });
});
