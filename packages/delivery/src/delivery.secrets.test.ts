import { Writable } from 'node:stream';
import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { envelopeContext, parseKeyRing, seal } from '@otp/domain';
import { REDACT_PATHS } from '@otp/runtime';
import { type TestDatabase, testKeyRing, testRedisUrl } from '@otp/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryError } from './delivery.error.ts';
import {
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  type SeedOptions,
  startDeliveryTestBed,
} from './testing/index.ts';

// Security properties of the pipeline: envelopes are bound to their job, and neither Redis (job
// data, return values, failure reasons, events) nor the logs ever hold a code or an address.
const logLines: string[] = [];
const seen = { codes: [] as string[], addresses: [] as string[] };
let bed: DeliveryTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let sender: RecordingSender;

beforeAll(async () => {
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  bed = await startDeliveryTestBed({
    worker: {
      renderers: {
        'otp-code': ({ code, locale }) => {
          // A template bug whose message would carry the code.
          if (locale === 'crash') throw new Error(`cannot render code ${code}`);
          return { subject: 'Code', text: `Your code is ${code}` };
        },
        'account-exists': () => ({ subject: 'Account', text: 'You have an account.' }),
      },
      log: pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, capture),
    },
  });
  ({ database, fixture, sender } = bed);
});

afterAll(async () => {
  await bed?.close();
});

async function seed(to: string, extra: Pick<SeedOptions, 'locale' | 'template'> = {}) {
  const challenge = await fixture.seedChallenge({ to, ...extra });
  seen.codes.push(challenge.code);
  seen.addresses.push(to);
  return challenge;
}

describe('envelopes are bound to their job', () => {
  it('fails permanently when the envelope was sealed for another send', async () => {
    const victim = await seed('victim@example.com');
    const attacker = await seed('attacker@example.com');
    const replayed = fixture.jobData(attacker, { challengeId: victim.id, sendNumber: 1 });
    const callsBefore = sender.calls;
    const outcome = await fixture.finished(await fixture.enqueue(attacker, { data: replayed }));

    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_unreadable' });
    expect(sender.calls).toBe(callsBefore);
    expect(await listDeliveryAttempts(database.db, attacker.id)).toMatchObject([
      { outcome: 'permanent_failure', error_code: 'envelope_unreadable' },
    ]);
    expect(await findChallenge(database.db, attacker.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
    });
  });

  it('retries, as a temporary failure, an envelope sealed with a key the worker does not have yet', async () => {
    const challenge = await seed('other-key@example.com');
    const foreign = parseKeyRing(testKeyRing('foreign'));
    const data = {
      ...fixture.jobData(challenge),
      envelope: seal(foreign, { to: challenge.to, code: challenge.code }, envelopeContext(challenge.id, 1)),
    };
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { data, attempts: 2 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_key_unknown' });
    expect(await listDeliveryAttempts(database.db, challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'envelope_key_unknown' },
      { outcome: 'temporary_failure', error_code: 'envelope_key_unknown' },
    ]);
  });
});

describe('failure reasons are codes, never provider or exception text', () => {
  it('replaces an unclassified sender error that names the address by sender_error', async () => {
    const challenge = await seed('leaky@example.com');
    sender.failNext(new Error('mailbox leaky@example.com refused') as DeliveryError);
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'sender_error' });
  });

  it('replaces a template exception that carries the code by sender_error', async () => {
    const challenge = await seed('template@example.com', { locale: 'crash' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'sender_error' });
  });

  it('sends a normal message too (so the checks below see a completed job)', async () => {
    const challenge = await seed('fine@example.com');
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    expect(sender.sent.at(-1)?.text).toContain(challenge.code);
  });

  it('sends an account-exists message too (its address is as secret as any)', async () => {
    const challenge = await seed('registered@example.com', { template: 'account-exists' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    expect(sender.sent.at(-1)).toMatchObject({ to: 'registered@example.com', text: 'You have an account.' });
  });
});

async function dumpQueueKeys(): Promise<string> {
  const redis = new Redis(testRedisUrl());
  try {
    const keys = await redis.keys(`${bed.prefix}:*`);
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        if (type === 'hash') return redis.hgetall(key);
        if (type === 'string') return redis.get(key);
        if (type === 'list') return redis.lrange(key, 0, -1);
        if (type === 'set') return redis.smembers(key);
        if (type === 'zset') return redis.zrange(key, 0, -1);
        if (type === 'stream') return redis.xrange(key, '-', '+');
        return `unknown type ${type}`;
      }),
    );
    return JSON.stringify({ keys, values });
  } finally {
    redis.disconnect();
  }
}

describe('nothing secret reaches Redis or the logs', () => {
  it('keeps every code and address out of job data, results, failure reasons and events', async () => {
    const dump = await dumpQueueKeys();
    expect(dump).toContain('l***@example.com'); // the dump does hold the jobs (masked address)
    expect(dump).toContain('r***@example.com'); // the account-exists one too
    expect(dump).toContain('envelope_unreadable');
    for (const code of seen.codes) expect(dump).not.toMatch(new RegExp(`\\b${code}\\b`));
    for (const address of seen.addresses) expect(dump).not.toContain(address);
  });

  it('keeps every code and address out of the log lines', () => {
    const logs = logLines.join('');
    expect(logs).toContain('delivery sent');
    expect(logs).toContain('sender threw');
    for (const code of seen.codes) expect(logs).not.toMatch(new RegExp(`\\b${code}\\b`));
    for (const address of seen.addresses) expect(logs).not.toContain(address);
  });
});
