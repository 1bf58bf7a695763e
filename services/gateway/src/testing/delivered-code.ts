import { releaseDeferredOutbox } from '@otp/db';
import {
  type Channel,
  type DeliveryJobData,
  type DeliverySecret,
  deliveryJobId,
  envelopeContext,
  isDeliverySecret,
  open,
} from '@otp/domain';
import type { Job } from 'bullmq';
import type { TestGateway } from './gateway.harness.ts';

/**
 * The delivery job of one send, read back from Redis after the relay ran. On a loaded machine a
 * drain may defer the row (Redis slower than the relay's enqueue bound): the deferral is
 * released and the drain run again, for up to 15 s (a count of rounds was not enough when the
 * machine ran other suites beside this one), before giving up.
 */
export async function deliveryJob(
  gateway: TestGateway,
  challengeId: string,
  sendNumber = 1,
): Promise<Job<DeliveryJobData>> {
  const deadline = Date.now() + 15_000;
  for (let round = 0; round === 0 || Date.now() < deadline; round++) {
    if (round > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await releaseDeferredOutbox(gateway.deps.db);
    }
    await gateway.deps.relay.drainOnce();
    for (const channel of ['email', 'sms'] as Channel[]) {
      const job = await gateway.inspect[channel].getJob(deliveryJobId(challengeId, sendNumber));
      if (job !== undefined) return job as Job<DeliveryJobData>;
    }
  }
  throw new Error(`no delivery job for send ${sendNumber} of challenge ${challengeId}`);
}

/** What a worker would open for a send, by the message its job asks for. */
export type DeliveredSend =
  | { template: 'otp-code'; secret: DeliverySecret<'otp-code'> }
  | { template: 'account-exists'; secret: DeliverySecret<'account-exists'> }
  | { template: 'reset-no-account'; secret: DeliverySecret<'reset-no-account'> };

/** The template of a send and its envelope opened (the address, and the code of an `otp-code` send). */
export async function deliveredSend(gateway: TestGateway, challengeId: string, sendNumber = 1): Promise<DeliveredSend> {
  const job = await deliveryJob(gateway, challengeId, sendNumber);
  const opened = open(gateway.ring, job.data.envelope, envelopeContext(challengeId, sendNumber));
  if (job.data.template === 'account-exists') {
    if (isDeliverySecret('account-exists', opened)) return { template: 'account-exists', secret: opened };
  } else if (job.data.template === 'reset-no-account') {
    if (isDeliverySecret('reset-no-account', opened)) return { template: 'reset-no-account', secret: opened };
  } else if (isDeliverySecret('otp-code', opened)) {
    return { template: 'otp-code', secret: opened };
  }
  throw new Error(`the envelope does not hold what a ${job.data.template} send needs`);
}

/** What a worker would deliver for a code send: the code and the address, opened from the envelope. */
export async function deliveredSecret(
  gateway: TestGateway,
  challengeId: string,
  sendNumber = 1,
): Promise<DeliverySecret<'otp-code'>> {
  const send = await deliveredSend(gateway, challengeId, sendNumber);
  if (send.template !== 'otp-code') {
    throw new Error(`send ${sendNumber} of challenge ${challengeId} carries no code: it is ${send.template}`);
  }
  return send.secret;
}

export async function deliveredCode(gateway: TestGateway, challengeId: string, sendNumber = 1): Promise<string> {
  return (await deliveredSecret(gateway, challengeId, sendNumber)).code;
}
