import { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker } from '@otp/delivery';
import { createAccountExistsEmailTemplate } from './templates/account-exists.template.ts';
import { createNoticeEmailTemplates } from './templates/notices/notice.templates.ts';
import { createOtpCodeEmailTemplate } from './templates/otp-code.template.ts';
import { createResetNoAccountEmailTemplate } from './templates/reset-no-account.template.ts';

export interface EmailWorkerDeps extends Omit<DeliveryWorkerDeps, 'channel' | 'renderers'> {
  /** Product name used in the email. */
  appName: string;
}

/**
 * Consumes the `email` queue: renders the email the job asks for (`otp-code`, `account-exists`, `reset-no-account`, a security notice)
 * and hands it to `deps.sender`.
 */
export function startWorker(deps: EmailWorkerDeps): DeliveryWorker {
  const { appName, ...workerDeps } = deps;
  return startDeliveryWorker({
    ...workerDeps,
    channel: 'email',
    renderers: {
      'otp-code': createOtpCodeEmailTemplate({ appName }),
      'account-exists': createAccountExistsEmailTemplate({ appName }),
      'reset-no-account': createResetNoAccountEmailTemplate({ appName }),
      notices: createNoticeEmailTemplates({ appName }),
    },
  });
}
