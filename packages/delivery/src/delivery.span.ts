import { isDeliveryJobData } from '@otp/domain';
import { activeSpan, SpanStatusCode } from '@otp/runtime';
import type { Job } from 'bullmq';
import type { DeliveryJobResult } from './delivery.processor.ts';

export interface DeliverySpanContext {
  provider: string;
  job: Job;
}

/**
 * Runs one processing of a delivery job and, when tracing, records on BullMQ's CONSUMER span
 * (`process <queue>`, active while the processor runs, the child of the job's producer span in
 * the gateway request's trace) what only the pipeline knows: the challenge, the provider, the
 * attempt and how it ended (sent, skipped, or the error code). No span of our own: BullMQ's
 * telemetry already times the processing and links it to the request.
 */
export async function traceDelivery(
  { provider, job }: DeliverySpanContext,
  run: () => Promise<DeliveryJobResult>,
): Promise<DeliveryJobResult> {
  const span = activeSpan();
  if (span === undefined) return run();
  const data = isDeliveryJobData(job.data) ? job.data : undefined;
  span.setAttributes({
    'otp.provider': provider,
    'otp.attempt': job.attemptsMade + 1,
    ...(data === undefined
      ? {}
      : {
          'otp.challenge_id': data.challengeId,
          'otp.send_number': data.sendNumber,
          'otp.request_id': data.requestId ?? '',
        }),
  });
  try {
    const result = await run();
    span.setAttribute('otp.delivery.result', 'skipped' in result ? `skipped:${result.skipped}` : 'sent');
    return result;
  } catch (error) {
    // The pipeline's errors are codes (smtp_550, worker_error...), never provider text.
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  }
}
