import { createLogger } from '@otp/runtime';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { createProviderChain, type ProviderChainOptions } from './provider-chain.ts';
import type { DeliverySender, OutgoingMessage } from './sender.port.ts';
import { deliveryFailure as failure } from './testing/delivery-failure.ts';
import { createRecordingSender } from './testing/index.ts';

// The failover core: which provider a send goes to, when it moves on, and each provider's breaker.
const message: OutgoingMessage = {
  channel: 'sms',
  to: '+14155550100',
  toMasked: '+*******0100',
  challengeId: '7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22',
  sendNumber: 1,
  text: 'Your code is 123456',
};
const notAccepted = (code: 'twilio_5xx' | 'twilio_network' = 'twilio_5xx') =>
  new DeliveryError('temporary', code, { notAccepted: true });
const unknownOutcome = () => new DeliveryError('temporary', 'twilio_network');

function chainOf(names: string[], options: Partial<ProviderChainOptions> = {}) {
  const senders = names.map((name) => createRecordingSender(name));
  let clock = 0;
  const changes: Array<[string, string]> = [];
  const chain = createProviderChain(senders, {
    failures: 3,
    cooldownMs: 30_000,
    now: () => clock,
    log: createLogger({ service: 'chain-test', level: 'silent' }),
    onBreakerChange: (provider, state) => changes.push([provider, state]),
    ...options,
  });
  const sentBy = () => senders.map((sender) => sender.sent.length);
  return {
    chain,
    senders: senders as [ReturnType<typeof createRecordingSender>, ReturnType<typeof createRecordingSender>],
    changes,
    sentBy,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('a provider chain', () => {
  it('of one provider is that provider: its 429 still reaches the pipeline, which pauses the queue', () => {
    const only = createRecordingSender('twilio');
    const log = createLogger({ service: 'chain-test', level: 'silent' });
    expect(createProviderChain([only], { failures: 5, cooldownMs: 30_000, log })).toBe(only);
  });

  it('is named after its providers, in order', () => {
    const { chain } = chainOf(['twilio', 'hook']);
    expect(chain.provider).toBe('twilio,hook');
    expect(chain.providers).toEqual(['twilio', 'hook']);
  });

  it('sends through the first provider and says which one took it', async () => {
    const { chain, sentBy } = chainOf(['twilio', 'hook']);
    expect(await chain.send(message)).toEqual({ providerMessageId: 'fake-1', provider: 'twilio' });
    expect(sentBy()).toEqual([1, 0]);
  });

  it('moves to the next provider when the first certainly did not take the message: one message in all', async () => {
    const { chain, senders, sentBy } = chainOf(['twilio', 'hook']);
    senders[0].failNext(notAccepted());
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    expect(sentBy()).toEqual([0, 1]);
    expect(senders[0].calls).toBe(1);
  });

  it('does not move on after an unknown outcome: the failure, naming its provider, goes back for a retry', async () => {
    const { chain, senders } = chainOf(['twilio', 'hook']);
    senders[0].failNext(unknownOutcome());
    const error = await failure(chain.send(message));
    expect(error).toMatchObject({ kind: 'temporary', code: 'twilio_network', provider: 'twilio', notAccepted: false });
    expect(senders[1].calls).toBe(0);
  });

  it('throws a permanent failure as it is: the message is at fault, not the provider', async () => {
    const { chain, senders, changes } = chainOf(['twilio', 'hook'], { failures: 1 });
    senders[0].failNext(new DeliveryError('permanent', 'twilio_21211', { notAccepted: true }));
    expect(await failure(chain.send(message))).toMatchObject({ kind: 'permanent', provider: 'twilio' });
    expect(senders[1].calls).toBe(0);
    expect(changes).toEqual([]);
  });

  it('throws the last provider’s own failure when every one of them failed without taking it', async () => {
    const { chain, senders } = chainOf(['twilio', 'hook']);
    senders[0].failNext(notAccepted());
    senders[1].failNext(notAccepted('twilio_network'));
    const error = await failure(chain.send(message));
    expect(error).toMatchObject({ kind: 'temporary', code: 'twilio_network', provider: 'hook' });
  });

  it('opens the breaker of a provider that asks us to stop (429) and sends through the next', async () => {
    const { chain, senders, sentBy, changes } = chainOf(['twilio', 'hook']);
    senders[0].failNext(new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: 1000, notAccepted: true }));
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    expect(changes).toEqual([['twilio', 'open']]);
    // Skipped while open.
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    expect(senders[0].calls).toBe(1);
    expect(sentBy()).toEqual([0, 2]);
  });

  it('opens the breaker of a provider refusing our credentials, never passing the kind on to pause the queue', async () => {
    const { chain, senders } = chainOf(['twilio', 'hook']);
    senders[0].failNext(new DeliveryError('provider_auth', 'twilio_20003', { notAccepted: true }));
    senders[1].failNext(new DeliveryError('rate_limited', 'twilio_429', { notAccepted: true }));
    const error = await failure(chain.send(message));
    expect(error).toMatchObject({ kind: 'temporary', code: 'providers_unavailable', provider: 'hook' });
    // Both open now: nothing is tried.
    const next = await failure(chain.send(message));
    expect(next).toMatchObject({ kind: 'temporary', code: 'providers_unavailable', notAccepted: true });
    expect([senders[0].calls, senders[1].calls]).toEqual([1, 1]);
  });

  it('opens a breaker after N consecutive temporary failures, half-opens it after the cooldown, closes it on success', async () => {
    const { chain, senders, sentBy, changes, advance } = chainOf(['twilio', 'hook']);
    // Two failures, a success, then three failures in a row: only the run of three opens it.
    senders[0].failNext(notAccepted(), notAccepted());
    await chain.send(message);
    await chain.send(message);
    await chain.send(message);
    expect(changes).toEqual([]);
    senders[0].failNext(notAccepted(), unknownOutcome(), notAccepted());
    await chain.send(message);
    await failure(chain.send(message)); // the unknown outcome counts, but does not move on
    await chain.send(message);
    expect(changes).toEqual([['twilio', 'open']]);
    expect(sentBy()).toEqual([1, 4]);

    // Open: skipped, until the cooldown is over.
    const callsWhenOpened = senders[0].calls;
    advance(29_999);
    await chain.send(message);
    expect(senders[0].calls).toBe(callsWhenOpened);

    // Half-open: one send tries it; its failure opens it again.
    advance(1);
    senders[0].failNext(notAccepted());
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    expect(senders[0].calls).toBe(callsWhenOpened + 1);
    expect(changes.slice(1)).toEqual([
      ['twilio', 'half_open'],
      ['twilio', 'open'],
    ]);

    // After the next cooldown the trial succeeds: closed, and the sends after it go to it.
    advance(30_000);
    expect(await chain.send(message)).toMatchObject({ provider: 'twilio' });
    expect(await chain.send(message)).toMatchObject({ provider: 'twilio' });
    expect(changes.slice(3)).toEqual([
      ['twilio', 'half_open'],
      ['twilio', 'closed'],
    ]);
  });

  it('lets one send at a time try a half-open provider', async () => {
    let release: () => void = () => {};
    let slowCalls = 0;
    const slow: DeliverySender = {
      provider: 'twilio',
      async send() {
        slowCalls += 1;
        if (slowCalls === 1) throw new DeliveryError('rate_limited', 'twilio_429', { notAccepted: true });
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { providerMessageId: 'slow' };
      },
    };
    const hook = createRecordingSender('hook');
    let clock = 0;
    const chain = createProviderChain([slow, hook], {
      failures: 3,
      cooldownMs: 1000,
      now: () => clock,
      log: createLogger({ service: 'chain-test', level: 'silent' }),
    });
    await chain.send(message); // the 429 opens twilio's breaker; hook sends
    clock = 1000;
    const trial = chain.send(message);
    // While the trial is out, another send goes to the next provider.
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    release();
    expect(await trial).toMatchObject({ provider: 'twilio' });
    expect(slowCalls).toBe(2);
  });

  it('skips a provider switched off (by its option or by the send), and is unavailable when all are', async () => {
    const off = new Set<string>(['twilio']);
    const { chain, senders } = chainOf(['twilio', 'hook'], { isSwitchedOff: (provider) => off.has(provider) });
    expect(await chain.send(message)).toMatchObject({ provider: 'hook' });
    off.clear();
    const context = { isSwitchedOff: (provider: string) => provider === 'twilio' };
    expect(await chain.send(message, context)).toMatchObject({ provider: 'hook' });
    expect(senders[0].calls).toBe(0);

    const all = await failure(chain.send(message, { isSwitchedOff: () => true }));
    expect(all).toMatchObject({ kind: 'temporary', code: 'providers_unavailable', notAccepted: true });
    expect(all.provider).toBeUndefined();
  });

  it('refuses a provider named twice: each needs a breaker and a record of its own', () => {
    const log = createLogger({ service: 'chain-test', level: 'silent' });
    const twice = [createRecordingSender('smtp'), createRecordingSender('smtp')];
    expect(() => createProviderChain(twice, { failures: 5, cooldownMs: 1000, log })).toThrow(/named twice/);
  });
});
