import { type Database, type Kysely, moveDelivery, recordAttemptAndMove, takeChallengeToSend } from '@otp/db';
import {
  type Channel,
  isDeliveryJobData,
  isNoticeJobData,
  type KeyRing,
  type SendRefusal,
  sendRefusal,
} from '@otp/domain';
import type { Logger } from '@otp/runtime';
import type { Job } from 'bullmq';
import { type AttemptIdentity, attemptRecorder, attemptRow } from './attempt.recorder.ts';
import { asDeliveryError, handleFailure, jobFailureContext, refuse } from './delivery.failures.ts';
import { messageComposer, openEnvelope } from './delivery.message.ts';
import type { DeliveryMetrics } from './delivery.metrics.ts';
import { insertDeliveryFailedEvent } from './delivery-failed.event.ts';
import { holdIfSwitchedOff, sendContext, smsCountryOfJob } from './kill-switch.hold.ts';
import type { KillSwitchWatch } from './kill-switch.watch.ts';
import { processNotice } from './notice.processor.ts';
import type { DeliverySender, MessageRenderers } from './sender.port.ts';
import { writeBack } from './write-back.ts';

/** A job's return value, stored in Redis: ids and reasons only. */
export type DeliveryJobResult =
  /** `provider`: which one of a chain took it; only a chain of several providers sets it. */
  | { providerMessageId: string | null; provider?: string }
  | { skipped: SendRefusal | 'already_sent' | 'notification_missing' };

export interface DeliveryProcessorDeps {
  channel: Channel;
  db: Kysely<Database>;
  keyRing: KeyRing;
  sender: DeliverySender;
  /** The templates this channel renders; a job naming another is an invalid payload. */
  renderers: MessageRenderers;
  log: Logger;
  /** `otp_sends_total` and `otp_delivery_latency_seconds`. */
  metrics: DeliveryMetrics;
  now: () => Date;
  /** A 429 pauses the queue; after this many starts of one job it counts as a temporary failure. */
  maxRateLimitedStarts: number;
  rateLimit(ms: number): Promise<void>;
  authFailurePauseMs: number;
  /** How long the outcome of an accepted send is retried into Postgres before giving up. */
  writeBackTimeoutMs: number;
  /** The operator's kill switches, as last read; a send one stops waits (`holdIfSwitchedOff`). */
  killSwitches: Pick<KillSwitchWatch, 'firstRead' | 'off'>;
  killSwitchHoldMs: number;
}

export function createDeliveryProcessor(deps: DeliveryProcessorDeps) {
  return async function processDelivery(
    job: Job<unknown, DeliveryJobResult>,
    /** The worker's lock on the job, to put it back to wait while a kill switch holds it. */
    token?: string,
  ): Promise<DeliveryJobResult> {
    const data = job.data;
    // A security notice (version 3): no challenge; only a worker with notice templates sends it.
    if (isNoticeJobData(data)) return processNotice(deps, job, data, token);
    // Of a version or shape this worker does not know (a newer gateway's), or for the other queue.
    if (!isDeliveryJobData(data) || data.channel !== deps.channel) refuse(deps.metrics);
    // Naming a template this worker does not render (account-exists on the SMS queue).
    const compose = messageComposer(deps.renderers, data) ?? refuse(deps.metrics);
    const { challengeId, sendNumber, channel } = data;
    const log = deps.log.child({
      challengeId,
      sendNumber,
      channel,
      jobId: job.id,
      requestId: data.requestId,
      template: data.template,
      attempt: job.attemptsMade + 1,
    });
    // With no kill switch off (as last read) no hold can follow, so the read also moves the send
    // to `sending` in the same statement, and only when the domain's refusal rule at `now` lets
    // it go (takeChallengeToSend): one round trip instead of two. Otherwise the read alone, and
    // the hold check and the move after it, as before: a held job is never taken.
    await deps.killSwitches.firstRead;
    const now = deps.now();
    const take = deps.killSwitches.off().size === 0;
    const { challenge, taken } = await takeChallengeToSend(deps.db, challengeId, sendNumber, { now, take });
    const attempt: AttemptIdentity = {
      challengeId,
      sendNumber,
      channel,
      provider: deps.sender.provider,
      attempt: Math.max(job.attemptsStarted, job.attemptsMade + 1),
      ...(challenge === undefined ? {} : { challengeCreatedAt: challenge.created_at_key }),
    };
    const record = attemptRecorder(deps.db, attempt);
    // Expired, used, locked, failed, superseded by a resend, or handed to the provider already.
    const skipped = sendRefusal(challenge, sendNumber, now);
    if (challenge === undefined || skipped !== undefined) {
      const reason = skipped ?? 'challenge_missing';
      // Never expected: the statement takes only a row this rule allows (the very row returned).
      if (taken) log.warn({ reason }, 'taken by the read, then refused: skipped, left sending');
      // A purged challenge has no row to hang an attempt on (foreign key): the log line is the record.
      if (challenge !== undefined) await record('skipped', { errorCode: reason });
      deps.metrics.send('skipped');
      log.info({ reason }, 'delivery skipped');
      return { skipped: reason };
    }
    if (!taken) {
      // After the check above, so a held job whose code expired meanwhile is skipped, not held again.
      await holdIfSwitchedOff(
        deps,
        job,
        token,
        {
          channel,
          country: () => challenge.sms_country ?? smsCountryOfJob(deps.keyRing, data),
        },
        log,
      );
      await moveDelivery(deps.db, challengeId, sendNumber, 'taken');
    }
    const started = performance.now();
    let providerMessageId: string | null;
    let provider: string | undefined;
    let locale: string | undefined;
    try {
      const { to, ...rendered } = compose(openEnvelope(deps.keyRing, data), {
        expiresAt: challenge.expires_at,
        now: deps.now(),
      });
      ({ locale } = rendered);
      const message = {
        channel,
        to,
        toMasked: data.toMasked,
        challengeId,
        sendNumber,
        requestId: data.requestId,
        purpose: data.purpose,
        ...rendered,
      };
      ({ providerMessageId, provider } = await deps.sender.send(message, sendContext(deps)));
    } catch (error) {
      throw await handleFailure(asDeliveryError(error, log), {
        log,
        recordFailure: async (outcome, fields, { final }) => {
          // `failed` fails the challenge; both move only a send still in line, so a failure
          // reported late (a duplicate run of the job) never undoes a send another run recorded.
          if (!final) {
            await record(outcome, { ...fields, locale });
            await moveDelivery(deps.db, challengeId, sendNumber, 'retry_scheduled', { lastError: fields.errorCode });
            return;
          }
          // For good: the attempt, the move and the webhook's challenge.failed commit together, and
          // the event only when this run moved the status (a late duplicate failure moves nothing).
          await deps.db.transaction().execute(async (trx) => {
            await attemptRecorder(trx, attempt)(outcome, { ...fields, locale });
            if (!(await moveDelivery(trx, challengeId, sendNumber, 'failed', { lastError: fields.errorCode }))) return;
            await insertDeliveryFailedEvent(trx, challenge, fields.errorCode, deps.now());
          });
        },
        ...jobFailureContext(deps, job, started),
      });
    }

    const durationMs = performance.now() - started;
    deps.metrics.send('sent', provider);
    deps.metrics.delivered(new Date(data.requestedAt), deps.now(), provider);
    // The provider has the message: from here on, failing the job would send it again. So the
    // outcome is written back with retries (Postgres may be away for a moment) while BullMQ keeps
    // renewing the job's lock, and a write that never succeeds does not fail the job.
    const written = await writeBack(
      // One statement (recordAttemptAndMove): the attempt row and the challenge's status land
      // together or not at all. Another worker that takes this job again (this one died just
      // after) then finds the send recorded and skips it; and a retried write-back does not record
      // the send twice.
      async () => {
        const recorded = await recordAttemptAndMove(
          deps.db,
          attemptRow(attempt, 'sent', {
            providerMessageId,
            durationMs,
            locale,
            ...(provider === undefined ? {} : { provider }),
          }),
          'sent',
          { providerMessageId, lastError: null },
        );
        // Deleted while it was being sent (its account was deleted): there is nothing to record
        // the send on, and retrying the write would only fail the foreign key until the timeout.
        if (recorded.outcome === 'challenge_missing') log.info('challenge deleted during the send: nothing recorded');
      },
      deps.writeBackTimeoutMs,
      log,
    );
    log.info(
      { provider: provider ?? deps.sender.provider, locale, durationMs: Math.round(durationMs), written },
      'delivery sent',
    );
    return provider === undefined ? { providerMessageId } : { providerMessageId, provider };
  };
}
