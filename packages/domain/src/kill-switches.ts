import { isSupportedCountry } from 'libphonenumber-js/max';
import type { Channel } from './recipient.ts';

// What an operator can switch off at run time (docs/sms-fraud.md, "Kill switches"), and which
// switches stop a given send. The state lives in Postgres (`kill_switches`); this is the pure part
// the gateway, the workers and the operator's command share.

/**
 * The providers each channel sends through today, as the workers name them (`DeliverySender.provider`).
 * `provider:<name>` switches one off; a channel whose every provider is off takes no new request.
 */
export const CHANNEL_PROVIDERS = {
  sms: ['twilio'],
  email: ['smtp'],
} as const satisfies Record<Channel, readonly string[]>;

/**
 * Providers a worker may also have in its chain (`SMS_PROVIDERS`, `EMAIL_PROVIDERS`): a Standard
 * Webhooks `hook` and a second SMTP server, `smtp-fallback`. They can be switched off like the
 * others; they are not in CHANNEL_PROVIDERS, so the gateway still refuses a channel's requests
 * when its usual providers are all off (it does not know which chain the workers run).
 */
export const FALLBACK_PROVIDERS = ['hook', 'smtp-fallback'] as const;

const CHANNELS = Object.keys(CHANNEL_PROVIDERS) as Channel[];
const PROVIDERS: readonly string[] = [...new Set([...Object.values(CHANNEL_PROVIDERS).flat(), ...FALLBACK_PROVIDERS])];

/** The targets as an operator types them; `XX` is an ISO 3166-1 alpha-2 code. */
export const KILL_SWITCH_TARGET_FORMS: readonly string[] = [
  ...CHANNELS,
  'country:XX',
  ...PROVIDERS.map((provider) => `provider:${provider}`),
];

/**
 * A target in its stored form (`sms`, `email`, `country:GB`, `provider:twilio`), or undefined when
 * it names nothing this system can switch off. Channel and provider names are lower-cased, the
 * country upper-cased. A country must be one libphonenumber knows a numbering plan of, so a
 * mistaken `country:UK` (the code is GB) is refused instead of switching nothing off.
 */
export function parseKillSwitchTarget(input: string): string | undefined {
  const value = input.trim();
  const lower = value.toLowerCase();
  if ((CHANNELS as string[]).includes(lower)) return lower;
  const country = /^country:([a-z]{2})$/i.exec(value)?.[1]?.toUpperCase();
  if (country !== undefined) return isSupportedCountry(country) ? `country:${country}` : undefined;
  const provider = /^provider:([a-z-]+)$/.exec(lower)?.[1];
  if (provider !== undefined && PROVIDERS.includes(provider)) return `provider:${provider}`;
  return undefined;
}

/** A send the switches are asked about. */
export interface SwitchedSend {
  channel: Channel;
  /** SMS: the recipient's country (ISO 3166-1 alpha-2); unknown or email: undefined. */
  country?: string | undefined;
  /**
   * The providers that could carry it: the channel's every provider for a new request (the
   * gateway does not know which worker takes it), the worker's own for a job about to be sent.
   */
  providers: readonly string[];
}

/**
 * The switched-off target that stops this send, or undefined when none does: its channel, its
 * country (SMS only), or every one of its providers.
 */
export function switchedOffTarget(off: ReadonlySet<string>, send: SwitchedSend): string | undefined {
  if (off.has(send.channel)) return send.channel;
  if (send.channel === 'sms' && send.country !== undefined && off.has(`country:${send.country}`)) {
    return `country:${send.country}`;
  }
  const providers = send.providers.map((provider) => `provider:${provider}`);
  if (providers.length > 0 && providers.every((target) => off.has(target))) return providers[0];
  return undefined;
}
