import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createOtpCodeEmailTemplate } from './templates/otp-code.template.ts';

export interface EmailWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'render'> {
  /** Product name used in the email. */
  appName: string;
}

/** Consumes the `email` queue: renders the `otp-code` email and hands it to `deps.sender`. */
export function startWorker(deps: EmailWorkerDeps): DeliveryWorker {
  const { appName, ...workerDeps } = deps;
  return startDeliveryWorker({ ...workerDeps, channel: 'email', render: createOtpCodeEmailTemplate({ appName }) });
}
