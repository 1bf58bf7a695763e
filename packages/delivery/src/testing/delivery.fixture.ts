import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { type Database, insertChallenge, type Kysely, newChallengeId, sql } from '@otp/db';
import {
  type Channel,
  type DeliveryStatus,
  type DeliveryTemplate,
  deliveryJobId,
  deliveryJobOptions,
  deliveryJobVersion,
  envelopeContext,
  generateNumericCode,
  hashCode,
  JOB_NAMES,
  type KeyRing,
  maskRecipient,
  NOTICE_JOB_VERSION,
  type NoticeTemplate,
  noticeEnvelopeContext,
  noticeJobId,
  type Purpose,
  QUEUE_NAMES,
  recipientHash,
  type StoredChallengeStatus,
  seal,
} from '@otp/domain';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

export interface DeliveryFixtureOptions {
  db: Kysely<Database>;
  redisUrl: string;
  prefix: string;
  keyRing: KeyRing;
  channel: Channel;
}

export interface SeedOptions {
  to: string;
  /** The message its sends ask for (default `otp-code`). */
  template?: DeliveryTemplate;
  code?: string;
  purpose?: Purpose;
  locale?: string;
  status?: StoredChallengeStatus;
  /** The send this challenge is at (a resend makes it 2, 3...). */
  sendCount?: number;
  deliveryStatus?: DeliveryStatus;
  /** Negative for an already expired challenge. */
  expiresInMs?: number;
  /** A version 4 id, as the previous release wrote them (default: the gateway's UUIDv7, `newChallengeId`). */
  legacyId?: boolean;
}

export interface SeededChallenge {
  id: string;
  to: string;
  template: DeliveryTemplate;
  /**
   * The code its sends carry. An `account-exists` challenge stores and sends none: this one is
   * never used, so a test may search for it in what was sent.
   */
  code: string;
  sendNumber: number;
  expiresAt: Date;
  purpose: Purpose;
  locale: string;
}

export type JobOutcome = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string };

/**
 * Test set-up for delivery jobs, the way the gateway and its relay make them: a challenge row
 * written with the repositories, and a job added with the contract's id, data and options.
 */
export async function createDeliveryFixture(options: DeliveryFixtureOptions) {
  const queueName = QUEUE_NAMES[options.channel];
  const queueConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const eventsConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: queueConnection, prefix: options.prefix });
  const events = new QueueEvents(queueName, { connection: eventsConnection, prefix: options.prefix });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const codeKey = createSecretKey(randomBytes(32));

  async function seedChallenge(seed: SeedOptions): Promise<SeededChallenge> {
    const now = Date.now();
    const id = seed.legacyId === true ? randomUUID() : newChallengeId(new Date(now));
    const challenge: SeededChallenge = {
      id,
      to: seed.to,
      template: seed.template ?? 'otp-code',
      code: seed.code ?? generateNumericCode(6),
      sendNumber: seed.sendCount ?? 1,
      expiresAt: new Date(now + (seed.expiresInMs ?? 600_000)),
      purpose: seed.purpose ?? 'login',
      locale: seed.locale ?? 'en',
    };
    await insertChallenge(options.db, {
      id,
      channel: options.channel,
      purpose: challenge.purpose,
      recipient_hash: recipientHash(codeKey, options.channel, seed.to),
      recipient_sealed: seal(options.keyRing, seed.to, `recipient:${id}`),
      recipient_masked: maskRecipient(options.channel, seed.to),
      locale: challenge.locale,
      user_id: null,
      code_hashes: challenge.template === 'otp-code' ? [hashCode(codeKey, id, challenge.code)] : [],
      status: seed.status ?? 'pending',
      attempt_count: 0,
      send_count: challenge.sendNumber,
      max_attempts: 5,
      max_sends: 5,
      expires_at: challenge.expiresAt,
      resend_available_at: new Date(now + 30_000),
      verified_at: null,
      client_ip: null,
      delivery_status: seed.deliveryStatus ?? 'queued',
      delivery_updated_at: new Date(now),
      // As the gateway writes it: the time its id says.
      created_at: new Date(now),
    });
    return challenge;
  }

  /**
   * The job data for a send, as the gateway's relay writes it: the contract version the gateway
   * writes for the challenge's template, the code sealed only for `otp-code`. `envelopeFor`
   * seals the envelope for another send.
   */
  function jobData(challenge: SeededChallenge, envelopeFor?: { challengeId: string; sendNumber: number }) {
    const sealedFor = envelopeFor ?? { challengeId: challenge.id, sendNumber: challenge.sendNumber };
    const secret =
      challenge.template === 'otp-code' ? { to: challenge.to, code: challenge.code } : { to: challenge.to };
    return {
      v: deliveryJobVersion(challenge.template, challenge.purpose),
      challengeId: challenge.id,
      sendNumber: challenge.sendNumber,
      channel: options.channel,
      template: challenge.template,
      purpose: challenge.purpose,
      locale: challenge.locale,
      toMasked: maskRecipient(options.channel, challenge.to),
      requestedAt: new Date().toISOString(),
      expiresAt: challenge.expiresAt.toISOString(),
      requestId: `req-${challenge.id.slice(0, 8)}`,
      envelope: seal(options.keyRing, secret, envelopeContext(sealedFor.challengeId, sealedFor.sendNumber)),
    };
  }

  async function enqueue(challenge: SeededChallenge, job: { attempts?: number; data?: unknown } = {}): Promise<Job> {
    const jobId = deliveryJobId(challenge.id, challenge.sendNumber);
    const opts = deliveryJobOptions(jobId, { attempts: job.attempts ?? 3, backoffMs: 20 });
    return queue.add(JOB_NAMES.sendCode, job.data ?? jobData(challenge), opts);
  }

  /** Resolves once the job completed or failed for good (bounded by `timeoutMs`). */
  async function finished(job: Job, timeoutMs = 15_000): Promise<JobOutcome> {
    try {
      return { state: 'completed', value: await job.waitUntilFinished(events, timeoutMs) };
    } catch (error) {
      return { state: 'failed', reason: (error as Error).message };
    }
  }

  /**
   * A security notice as the gateway writes it: an account with this verified address, its
   * `notifications` row, and the job data of the template's version (3, or 4 for password-changed) (the address and `facts` sealed). `secret`
   * replaces what is sealed (a broken producer's envelope).
   */
  async function seedNotice(seed: { to: string; template?: NoticeTemplate; secret?: unknown }) {
    const user = await sql<{ id: string }>`INSERT INTO users (email, email_verified_at)
      VALUES (${seed.to}, now()) RETURNING id`.execute(options.db);
    const userId = user.rows[0]?.id as string;
    const id = randomUUID();
    const template = seed.template ?? 'factor-locked';
    await options.db.insertInto('notifications').values({ id, user_id: userId, template }).execute();
    const secret = seed.secret ?? { to: seed.to, facts: { at: new Date().toISOString() } };
    const data = {
      v: NOTICE_JOB_VERSION[template],
      kind: 'notice',
      notificationId: id,
      template,
      channel: 'email',
      locale: 'en',
      toMasked: maskRecipient('email', seed.to),
      requestedAt: new Date().toISOString(),
      requestId: `req-${id.slice(0, 8)}`,
      envelope: seal(options.keyRing, secret, noticeEnvelopeContext(id)),
    };
    return { id, userId, data };
  }

  async function enqueueNotice(
    notice: { id: string; data: unknown },
    job: { attempts?: number; jobId?: string } = {},
  ): Promise<Job> {
    const opts = deliveryJobOptions(job.jobId ?? noticeJobId(notice.id), {
      attempts: job.attempts ?? 3,
      backoffMs: 20,
    });
    return queue.add(JOB_NAMES.sendNotice, notice.data, opts);
  }

  return {
    queue,
    events,
    seedChallenge,
    seedNotice,
    enqueueNotice,
    jobData,
    enqueue,
    finished,
    async close(): Promise<void> {
      await events.close();
      await queue.close();
      queueConnection.disconnect();
      eventsConnection.disconnect();
    },
  };
}

export type DeliveryFixture = Awaited<ReturnType<typeof createDeliveryFixture>>;
