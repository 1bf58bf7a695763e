import { type MessageRenderer, minutesValid } from '@otp/delivery';
import { PURPOSES } from '@otp/domain';
import { type Catalogue, renderSms, smsSize } from '@otp/messages';

export interface SmsTemplateOptions {
  catalogue: Catalogue;
  /** APP_NAME: the product name, unless the catalogue's brand.json names one. */
  appName: string;
  /** Domain of the WebOTP line (`@domain #code`). */
  webOtpDomain: string;
  /** SMS_APP_HASH: the Android SMS Retriever hash, on the line before the WebOTP line. */
  appHash?: string | undefined;
}

/**
 * The `otp-code` SMS, from the catalogue in the job's locale (matched as for emails). The last
 * line is the WebOTP / origin-bound one-time code line (`@domain #code`), so browsers and phones
 * offer the code only on that site; the app hash, when set, is the line before it.
 */
export function createOtpCodeSmsTemplate(options: SmsTemplateOptions): MessageRenderer {
  const { catalogue, webOtpDomain, appHash } = options;
  const productName = catalogue.brand.productName ?? options.appName;
  return (input) =>
    renderSms(
      catalogue,
      'otp-code',
      catalogue.localeOf(input.locale),
      productName,
      { code: input.code, values: { purpose: input.purpose, minutes: minutesValid(input.expiresAt, input.now) } },
      { webOtpDomain, appHash },
    );
}

/**
 * The locales whose code SMS would take more than one segment with these settings, at the
 * longest code (10 digits) and a validity of two-digit minutes: a longer SMS costs two or more
 * messages at every send, which an operator should hear of at start.
 */
export function longSmsLocales(options: SmsTemplateOptions): Array<{ locale: string; segments: number }> {
  const render = createOtpCodeSmsTemplate(options);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 99 * 60_000);
  return options.catalogue.locales.flatMap((locale) => {
    const segments = Math.max(
      ...PURPOSES.map(
        (purpose) => smsSize(render({ code: '0'.repeat(10), purpose, locale, expiresAt, now }).text).segments,
      ),
    );
    return segments > 1 ? [{ locale, segments }] : [];
  });
}
