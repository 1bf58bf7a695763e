import { NOTICE_TEMPLATES } from '@otp/domain';
import { createLogger } from '@otp/runtime';
import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '../delivery.worker.ts';
import type { NoticeRenderers } from '../sender.port.ts';

export type TestWorkerOptions = Pick<DeliveryWorkerDeps, 'db' | 'redisUrl' | 'prefix' | 'keyRing' | 'sender'> &
  Partial<DeliveryWorkerDeps>;

/** How a worker is started: `startDeliveryWorker`, or a service's own `startWorker` over it. */
export type StartWorker = (deps: DeliveryWorkerDeps) => DeliveryWorker;

/**
 * A delivery worker with test settings (plain templates, silent logs, 5 s locks, a generous
 * limiter); a test names only what it is about. Waits until the worker is connected.
 * `start` is the function under test when it is a service's (which brings its own template).
 */
export async function startTestDeliveryWorker(
  options: TestWorkerOptions,
  start: StartWorker = startDeliveryWorker,
): Promise<DeliveryWorker> {
  const worker = start({
    channel: 'email',
    renderers: {
      'otp-code': ({ code }) => ({ subject: 'Your code', text: `Your code is ${code}` }),
      'account-exists': () => ({ subject: 'Your account', text: 'You have an account already.' }),
      'reset-no-account': () => ({ subject: 'No account', text: 'No account to reset here.' }),
      notices: Object.fromEntries(
        NOTICE_TEMPLATES.map((template) => [template, () => ({ subject: template, text: `Notice: ${template}` })]),
      ) as unknown as NoticeRenderers,
    },
    log: createLogger({ service: 'delivery-test', level: 'silent' }),
    concurrency: 2,
    limiter: { max: 100, duration: 1000 },
    lockDurationMs: 5000,
    stalledIntervalMs: 5000,
    closeTimeoutMs: 5000,
    ...options,
  });
  await worker.worker.waitUntilReady();
  return worker;
}
