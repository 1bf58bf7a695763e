import {
  type Channel,
  type DeliveryJobData,
  isDeliverySecret,
  type KeyRing,
  smsDestination,
  switchedOffTarget,
} from '@otp/domain';
import type { Logger } from '@otp/runtime';
import { DelayedError, type Job, RateLimitError } from 'bullmq';
import { openEnvelope } from './delivery.message.ts';
import type { DeliveryProcessorDeps } from './delivery.processor.ts';
import type { SendContext } from './sender.port.ts';

export interface HeldSend {
  channel: Channel;
  /** SMS: the recipient's country, asked for only while some country is switched off. */
  country?: () => string | undefined;
}

/**
 * Puts a job back to wait, without using one of its attempts, when a kill switch stops its send;
 * returns when none does. A switched-off channel, or every provider of the worker's chain (one
 * of several switched off is skipped by the chain: `sendContext`), stops every job of the queue,
 * so the whole queue pauses for `killSwitchHoldMs` (every replica, like a provider's 429): the
 * jobs wait without each being taken and put back in turn. A switched-off country stops only its own jobs:
 * each is delayed by `killSwitchHoldMs` while the others go out. A held job is looked at again
 * after that: sent if its switch is on by then, skipped if its code expired meanwhile.
 */
export async function holdIfSwitchedOff(
  deps: Pick<DeliveryProcessorDeps, 'killSwitches' | 'killSwitchHoldMs' | 'sender' | 'metrics' | 'rateLimit'>,
  job: Job,
  token: string | undefined,
  send: HeldSend,
  log: Logger,
): Promise<void> {
  await deps.killSwitches.firstRead;
  const off = deps.killSwitches.off();
  if (off.size === 0) return;
  const countryMatters = send.channel === 'sms' && [...off].some((target) => target.startsWith('country:'));
  const target = switchedOffTarget(off, {
    channel: send.channel,
    country: countryMatters ? send.country?.() : undefined,
    // The worker's own providers: `provider:twilio` does not stop a worker writing to the dev
    // outbox, nor one whose chain can still send through `hook` (the chain skips twilio).
    providers: deps.sender.providers ?? [deps.sender.provider],
  });
  if (target === undefined) return;

  const holdMs = deps.killSwitchHoldMs;
  deps.metrics.send('held');
  log.info({ target, holdMs }, 'delivery held: kill switch off');
  if (!target.startsWith('country:')) {
    await deps.rateLimit(holdMs);
    throw new RateLimitError();
  }
  await job.moveToDelayed(Date.now() + holdMs, token);
  throw new DelayedError();
}

/**
 * What a send is told besides its message: the operator's provider kill switches as last read,
 * so a chain skips a provider switched off while the others of the chain still send.
 */
export function sendContext(deps: Pick<DeliveryProcessorDeps, 'killSwitches'>): SendContext {
  return { isSwitchedOff: (provider) => deps.killSwitches.off().has(`provider:${provider}`) };
}

/**
 * The country of an SMS job's recipient, from its envelope, for challenges written before the
 * gateway recorded `sms_country`. Undefined when the envelope cannot be opened: the send then
 * fails the usual way, as unreadable.
 */
export function smsCountryOfJob(keyRing: KeyRing, data: DeliveryJobData): string | undefined {
  try {
    const opened = openEnvelope(keyRing, data);
    return isDeliverySecret('otp-code', opened) ? smsDestination(opened.to, 1).country : undefined;
  } catch {
    return undefined;
  }
}
