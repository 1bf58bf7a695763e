import { isDeliveryJobData } from '@otp/domain';
import { SpanKind, SpanStatusCode, type Tracing } from '@otp/runtime';
import type { Job } from 'bullmq';
import type { DeliveryJobResult } from './delivery.processor.ts';

export interface DeliverySpanContext {
  queue: string;
  provider: string;
  job: Job;
}

/**
 * Runs one processing of a delivery job inside a CONSUMER span, the child of the gateway's span
 * whose trace context the job carries; records how it ended (sent, skipped, or the error code).
 */
export async function traceDelivery(
  tracing: Tracing,
  { queue, provider, job }: DeliverySpanContext,
  run: () => Promise<DeliveryJobResult>,
): Promise<DeliveryJobResult> {
  const data = isDeliveryJobData(job.data) ? job.data : undefined;
  const span = tracing.startSpan(`${queue} deliver`, {
    kind: SpanKind.CONSUMER,
    traceparent: data?.traceparent,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.destination.name': queue,
      'messaging.message.id': String(job.id),
      'otp.provider': provider,
      'otp.attempt': job.attemptsMade + 1,
      ...(data === undefined
        ? {}
        : {
            'otp.challenge_id': data.challengeId,
            'otp.send_number': data.sendNumber,
            'otp.request_id': data.requestId ?? '',
          }),
    },
  });
  try {
    const result = await run();
    span.setAttribute('otp.delivery.result', 'skipped' in result ? `skipped:${result.skipped}` : 'sent');
    return result;
  } catch (error) {
    // The pipeline's errors are codes (smtp_550, worker_error...), never provider text.
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
