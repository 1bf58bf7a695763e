import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createOtpCodeSmsTemplate } from './templates/otp-code.template.ts';

export interface SmsWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'render'> {
  /** Product name used in the SMS. */
  appName: string;
  /** Domain of the WebOTP line (`@domain #code`). */
  webOtpDomain: string;
}

/** Consumes the `sms` queue: renders the `otp-code` SMS and hands it to `deps.sender`. */
export function startWorker(deps: SmsWorkerDeps): DeliveryWorker {
  const { appName, webOtpDomain, ...workerDeps } = deps;
  return startDeliveryWorker({
    ...workerDeps,
    channel: 'sms',
    render: createOtpCodeSmsTemplate({ appName, webOtpDomain }),
  });
}
