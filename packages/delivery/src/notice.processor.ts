import { findNotification, markNotificationSent, recordNotificationFailure } from '@otp/db';
import {
  EnvelopeError,
  isNoticeSecret,
  type NoticeJobData,
  type NoticeSecret,
  noticeEnvelopeContext,
  open,
} from '@otp/domain';
import { type Job, RateLimitError, UnrecoverableError } from 'bullmq';
import { DeliveryError } from './delivery.error.ts';
import { asDeliveryError, RetryableDeliveryFailure, refuse } from './delivery.failures.ts';
import { SEND_OUTCOME_OF_KIND } from './delivery.metrics.ts';
import type { DeliveryJobResult, DeliveryProcessorDeps } from './delivery.processor.ts';
import { writeBack } from './write-back.ts';

const DEFAULT_RETRY_AFTER_MS = 1000;

/** Opens a notice's envelope: an address and what happened, nothing else (never a code). */
function openNotice(deps: DeliveryProcessorDeps, data: NoticeJobData): NoticeSecret {
  let opened: unknown;
  try {
    opened = open(deps.keyRing, data.envelope, noticeEnvelopeContext(data.notificationId));
  } catch (error) {
    // A key not rolled out to this worker yet may come: retry. Anything else never opens.
    if (error instanceof EnvelopeError && error.reason === 'unknown_key') {
      throw new DeliveryError('temporary', 'envelope_key_unknown');
    }
    throw new DeliveryError('permanent', 'envelope_unreadable');
  }
  if (!isNoticeSecret(opened)) throw new DeliveryError('permanent', 'envelope_unreadable');
  return opened;
}

/**
 * A security notice (job version 3). No challenge: its `notifications` row is the record. Skipped
 * when that row says sent already (a duplicate job) or is gone (the account was deleted); sent,
 * then recorded sent with the same write-back retries as a code; a failure is counted on the row
 * and retried by BullMQ, and the last attempt (or a permanent failure) marks the notice failed.
 */
export async function processNotice(
  deps: DeliveryProcessorDeps,
  job: Job<unknown, DeliveryJobResult>,
  data: NoticeJobData,
): Promise<DeliveryJobResult> {
  // Notices are email only; a worker without notice templates (SMS) can never send one.
  const renderers = deps.renderers.notices;
  if (renderers === undefined || data.channel !== deps.channel) refuse(deps.metrics);
  const { notificationId, template } = data;
  const log = deps.log.child({
    notificationId,
    channel: data.channel,
    jobId: job.id,
    requestId: data.requestId,
    template,
    attempt: job.attemptsMade + 1,
  });

  const notification = await findNotification(deps.db, notificationId);
  if (notification === undefined || notification.status === 'sent') {
    const reason = notification === undefined ? 'notification_missing' : 'already_sent';
    deps.metrics.send('skipped');
    log.info({ reason }, 'notice skipped');
    return { skipped: reason };
  }

  const started = performance.now();
  let providerMessageId: string | null;
  try {
    const { to, facts } = openNotice(deps, data);
    const rendered = renderers[template]({ locale: data.locale, facts });
    ({ providerMessageId } = await deps.sender.send({
      channel: data.channel,
      to,
      toMasked: data.toMasked,
      notificationId,
      ...(data.requestId === undefined ? {} : { requestId: data.requestId }),
      ...rendered,
    }));
  } catch (error) {
    const failure = asDeliveryError(error, log);
    const { code } = failure;
    const pauses = failure.kind === 'rate_limited' || failure.kind === 'provider_auth';
    const kind = pauses && job.attemptsStarted > deps.maxRateLimitedStarts ? 'temporary' : failure.kind;
    deps.metrics.send(SEND_OUTCOME_OF_KIND[kind]);
    if (kind === 'rate_limited' || kind === 'provider_auth') {
      // The whole queue waits (codes too); the notice keeps its attempt.
      const waitMs =
        kind === 'provider_auth' ? deps.authFailurePauseMs : (failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
      log.warn({ code, waitMs }, 'notice: provider asks us to wait: pausing the queue');
      await deps.rateLimit(Math.max(waitMs, 100));
      throw new RateLimitError();
    }
    const final = kind === 'permanent' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await recordNotificationFailure(deps.db, notificationId, code, final);
    log.warn({ code, final }, final ? 'notice failed' : 'notice failed: will retry');
    throw kind === 'permanent' ? new UnrecoverableError(code) : new RetryableDeliveryFailure(code);
  }

  const durationMs = performance.now() - started;
  deps.metrics.send('sent');
  deps.metrics.delivered(new Date(data.requestedAt), deps.now());
  // The provider has it: failing the job now would send it again, so the record is retried.
  const written = await writeBack(
    async () => {
      await markNotificationSent(deps.db, notificationId, providerMessageId);
    },
    deps.writeBackTimeoutMs,
    log,
  );
  log.info({ provider: deps.sender.provider, durationMs: Math.round(durationMs), written }, 'notice sent');
  return { providerMessageId };
}
