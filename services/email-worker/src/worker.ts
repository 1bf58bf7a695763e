import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createEmailTemplates, type EmailTemplateOptions } from './templates/email.templates.ts';

export interface EmailWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'renderers'>, EmailTemplateOptions {}

/**
 * Consumes the `email` queue: renders the email the job asks for (`otp-code`, `account-exists`,
 * `reset-no-account`, a security notice) from the message catalogue and hands it to `deps.sender`.
 */
export function startWorker(deps: EmailWorkerDeps): DeliveryWorker {
  const { appName, catalogue, ...workerDeps } = deps;
  return startDeliveryWorker({
    ...workerDeps,
    channel: 'email',
    renderers: createEmailTemplates({ appName, catalogue }),
  });
}
