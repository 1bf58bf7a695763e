import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createOtpCodeSmsTemplate } from './templates/otp-code.template.ts';

export interface SmsWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'renderers'> {
  /** Product name used in the SMS. */
  appName: string;
  /** Domain of the WebOTP line (`@domain #code`). */
  webOtpDomain: string;
}

/**
 * Consumes the `sms` queue: renders the `otp-code` SMS and hands it to `deps.sender`. It has no
 * `account-exists` template (registration is by email only): such a job fails as
 * `invalid_payload`, a producer bug to see on the dashboard, not a message to improvise.
 */
export function startWorker(deps: SmsWorkerDeps): DeliveryWorker {
  const { appName, webOtpDomain, ...workerDeps } = deps;
  return startDeliveryWorker({
    ...workerDeps,
    channel: 'sms',
    renderers: { 'otp-code': createOtpCodeSmsTemplate({ appName, webOtpDomain }) },
  });
}
