import {
  type Channel,
  type DeliveryJobData,
  deliveryJobId,
  envelopeContext,
  isDeliverySecret,
  open,
} from '@otp/domain';
import type { Job } from 'bullmq';
import type { TestGateway } from './gateway.harness.ts';

/** The delivery job of one send, read back from Redis after the relay ran. */
export async function deliveryJob(
  gateway: TestGateway,
  challengeId: string,
  sendNumber = 1,
): Promise<Job<DeliveryJobData>> {
  await gateway.deps.relay.drainOnce();
  for (const channel of ['email', 'sms'] as Channel[]) {
    const job = await gateway.inspect[channel].getJob(deliveryJobId(challengeId, sendNumber));
    if (job !== undefined) return job as Job<DeliveryJobData>;
  }
  throw new Error(`no delivery job for send ${sendNumber} of challenge ${challengeId}`);
}

/** What a worker would deliver for a send: the code and the address, opened from the envelope. */
export async function deliveredSecret(gateway: TestGateway, challengeId: string, sendNumber = 1) {
  const job = await deliveryJob(gateway, challengeId, sendNumber);
  const secret = open(gateway.ring, job.data.envelope, envelopeContext(challengeId, sendNumber));
  if (!isDeliverySecret(secret)) throw new Error('envelope does not hold a delivery secret');
  return secret;
}

export async function deliveredCode(gateway: TestGateway, challengeId: string, sendNumber = 1): Promise<string> {
  return (await deliveredSecret(gateway, challengeId, sendNumber)).code;
}
