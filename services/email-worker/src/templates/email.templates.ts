import { type MessageRenderers, minutesValid, type NoticeInput, type NoticeRenderers } from '@otp/delivery';
import { NOTICE_TEMPLATES } from '@otp/domain';
import { type Catalogue, type EmailContent, renderEmail } from '@otp/messages';

export interface EmailTemplateOptions {
  catalogue: Catalogue;
  /** APP_NAME: the product name, unless the catalogue's brand.json names one. */
  appName: string;
}

/** What a notice's messages and facts list get from the facts in its envelope (never a code). */
function noticeContent({ facts }: NoticeInput): EmailContent {
  const shown = {
    when: facts.at,
    device: facts.userAgent,
    network: facts.network,
    newAddress: facts.emailMasked,
    phone: facts.phoneMasked,
  };
  return {
    values: {
      factor: facts.factorKind ?? 'other',
      change: facts.change ?? 'other',
      how: facts.how ?? 'change',
      sessionsRevoked: facts.sessionsRevoked ?? 0,
    },
    facts: Object.fromEntries(Object.entries(shown).filter(([, value]) => value !== undefined)),
  };
}

/**
 * Every email the worker sends, from the message catalogue (@otp/messages): the code by purpose,
 * account-exists, reset-no-account and each security notice. The job's locale is matched to the
 * catalogue's (a locale it does not have falls back: `de-CH` → `de`, unknown → DEFAULT_LOCALE),
 * and the locale used goes back with the message, to be recorded on the send.
 */
export function createEmailTemplates(options: EmailTemplateOptions): Required<MessageRenderers> {
  const { catalogue } = options;
  const productName = catalogue.brand.productName ?? options.appName;
  const notices = Object.fromEntries(
    NOTICE_TEMPLATES.map((template) => [
      template,
      (input: NoticeInput) =>
        renderEmail(catalogue, template, catalogue.localeOf(input.locale), productName, noticeContent(input)),
    ]),
  ) as NoticeRenderers;
  return {
    'otp-code': (input) =>
      renderEmail(catalogue, 'otp-code', catalogue.localeOf(input.locale), productName, {
        code: input.code,
        values: { purpose: input.purpose, minutes: minutesValid(input.expiresAt, input.now) },
      }),
    'account-exists': (input) =>
      renderEmail(catalogue, 'account-exists', catalogue.localeOf(input.locale), productName, {}),
    'reset-no-account': (input) =>
      renderEmail(catalogue, 'reset-no-account', catalogue.localeOf(input.locale), productName, {}),
    notices,
  };
}
