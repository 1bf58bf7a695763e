import type { NoticeRenderers } from '@otp/delivery';
import { createAccountDeletedEmailTemplate } from './account-deleted.template.ts';
import { createEmailChangedEmailTemplate } from './email-changed.template.ts';
import { createFactorChangedEmailTemplate } from './factor-changed.template.ts';
import { createFactorLockedEmailTemplate } from './factor-locked.template.ts';
import { createFactorsResetEmailTemplate } from './factors-reset.template.ts';
import { createNewSignInEmailTemplate } from './new-sign-in.template.ts';
import { createPasswordChangedEmailTemplate } from './password-changed.template.ts';
import { createPhoneChangedEmailTemplate } from './phone-changed.template.ts';
import { createRecoveryCodesRegeneratedEmailTemplate } from './recovery-codes-regenerated.template.ts';
import { createSessionRevokedEmailTemplate } from './session-revoked.template.ts';

/**
 * The security notice emails (packages/domain/src/notices.ts), one module per notice, each in
 * the same layout (notice.layout.ts): what happened, when, from what device for a new sign-in,
 * and what to do if it was not the reader. None ever shows a code.
 */
export function createNoticeEmailTemplates(options: { appName: string }): NoticeRenderers {
  return {
    'new-sign-in': createNewSignInEmailTemplate(options),
    'phone-changed': createPhoneChangedEmailTemplate(options),
    'factor-changed': createFactorChangedEmailTemplate(options),
    'recovery-codes-regenerated': createRecoveryCodesRegeneratedEmailTemplate(options),
    'factor-locked': createFactorLockedEmailTemplate(options),
    'session-revoked': createSessionRevokedEmailTemplate(options),
    'password-changed': createPasswordChangedEmailTemplate(options),
    'email-changed': createEmailChangedEmailTemplate(options),
    'account-deleted': createAccountDeletedEmailTemplate(options),
    'factors-reset': createFactorsResetEmailTemplate(options),
  };
}
