import type { Database, KillSwitch, Kysely } from '@otp/db';
import { startKillSwitchWatch } from '@otp/delivery/gateway';
import { CHANNEL_PROVIDERS, type Channel, PublicError, switchedOffTarget } from '@otp/domain';
import type { Logger } from '@otp/runtime';

// The operator's kill switches as this replica enforces them (docs/sms-fraud.md, "Kill
// switches"): `sms`, `email`, `country:GB`, `provider:twilio`, set with `pnpm --filter
// @otp/gateway ops kill-switch` and read from Postgres every KILL_SWITCH_REFRESH_MS.

/**
 * Retry-After of a refusal. An operator's switch has no known end; a minute keeps well-behaved
 * clients from hammering a stopped channel without leaving them waiting long once it is back.
 */
export const KILL_SWITCH_RETRY_AFTER_SECONDS = 60;

export interface KillSwitches {
  /**
   * Why a send on `channel` (an SMS: to a number of `country`) is refused now, or null when no
   * switch stops it: the channel off, the country off (SMS), or every provider of the channel off.
   */
  refusal(channel: Channel, country?: string): PublicError | null;
  /** Every switch as last read, off or on again (the `otp_kill_switch_off` gauge). */
  switches(): readonly KillSwitch[];
  /** Reads the table now (tests; the timer does it every KILL_SWITCH_REFRESH_MS). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the replica's copy of the switches; resolves once the first read settled, so a replica
 * started while SMS is off never takes an SMS request.
 */
export async function startKillSwitches(options: {
  db: Kysely<Database>;
  log: Logger;
  intervalMs: number;
}): Promise<KillSwitches> {
  const watch = startKillSwitchWatch(options);
  await watch.firstRead;
  return {
    refusal(channel, country) {
      const off = watch.off();
      if (off.size === 0) return null;
      const target = switchedOffTarget(off, {
        channel,
        country: channel === 'sms' ? country : undefined,
        // The gateway cannot know which worker takes the job: refused only when none could send it.
        providers: CHANNEL_PROVIDERS[channel],
      });
      // The target is not told: which countries or providers are off is the operator's business.
      return target === undefined
        ? null
        : new PublicError('channel_suspended', { retryAfterSeconds: KILL_SWITCH_RETRY_AFTER_SECONDS });
    },
    switches: () => watch.switches(),
    refresh: () => watch.refresh(),
    stop: () => watch.stop(),
  };
}
