import { findNotification, markNotificationSent, recordNotificationFailure } from '@otp/db';
import { isNoticeSecret, type NoticeJobData, type NoticeSecret, noticeEnvelopeContext } from '@otp/domain';
import type { Job } from 'bullmq';
import { asDeliveryError, handleFailure, jobFailureContext, refuse } from './delivery.failures.ts';
import { openSealed, unfit } from './delivery.message.ts';
import type { DeliveryJobResult, DeliveryProcessorDeps } from './delivery.processor.ts';
import { holdIfSwitchedOff, sendContext } from './kill-switch.hold.ts';
import { writeBack } from './write-back.ts';

/** Opens a notice's envelope: an address and what happened, nothing else (never a code). */
function openNotice(deps: DeliveryProcessorDeps, data: NoticeJobData): NoticeSecret {
  const opened = openSealed(deps.keyRing, data.envelope, noticeEnvelopeContext(data.notificationId));
  if (!isNoticeSecret(opened)) throw unfit();
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
  token: string | undefined,
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
  // A notice is an email like any other: the `email` and `provider:smtp` switches hold it too.
  await holdIfSwitchedOff(deps, job, token, { channel: data.channel }, log);

  const started = performance.now();
  let providerMessageId: string | null;
  let provider: string | undefined;
  let locale: string | undefined;
  try {
    const { to, facts } = openNotice(deps, data);
    const rendered = renderers[template]({ locale: data.locale, facts });
    ({ locale } = rendered);
    ({ providerMessageId, provider } = await deps.sender.send(
      {
        channel: data.channel,
        to,
        toMasked: data.toMasked,
        notificationId,
        purpose: template,
        ...(data.requestId === undefined ? {} : { requestId: data.requestId }),
        ...rendered,
      },
      sendContext(deps),
    ));
  } catch (error) {
    throw await handleFailure(asDeliveryError(error, log), {
      log,
      // The notice's row counts its failures; a pause (the provider asks the queue to wait) keeps
      // the attempt, as for codes, and leaves the row alone.
      recordFailure: async (_outcome, fields, { final, paused }) => {
        if (!paused) await recordNotificationFailure(deps.db, notificationId, fields.errorCode, final);
      },
      ...jobFailureContext(deps, job, started),
    });
  }

  const durationMs = performance.now() - started;
  deps.metrics.send('sent', provider);
  deps.metrics.delivered(new Date(data.requestedAt), deps.now(), provider);
  // The provider has it: failing the job now would send it again, so the record is retried.
  const written = await writeBack(
    async () => {
      await markNotificationSent(deps.db, notificationId, providerMessageId, locale ?? null);
    },
    deps.writeBackTimeoutMs,
    log,
  );
  log.info(
    { provider: provider ?? deps.sender.provider, locale, durationMs: Math.round(durationMs), written },
    'notice sent',
  );
  return provider === undefined ? { providerMessageId } : { providerMessageId, provider };
}
