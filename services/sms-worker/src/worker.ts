import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createOtpCodeSmsTemplate, type SmsTemplateOptions } from './templates/otp-code.template.ts';

export interface SmsWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'renderers'>, SmsTemplateOptions {}

/**
 * Consumes the `sms` queue: renders the `otp-code` SMS and hands it to `deps.sender`. It has no
 * `account-exists` template (registration is by email only): such a job fails as
 * `invalid_payload`, a producer bug to see on the dashboard, not a message to improvise.
 */
export function startWorker(deps: SmsWorkerDeps): DeliveryWorker {
  const { appName, webOtpDomain, appHash, catalogue, ...workerDeps } = deps;
  return startDeliveryWorker({
    ...workerDeps,
    channel: 'sms',
    renderers: { 'otp-code': createOtpCodeSmsTemplate({ appName, webOtpDomain, appHash, catalogue }) },
  });
}
