import { SegmentedMessage } from 'sms-segments-calculator';
import type { Catalogue } from './catalogue.loader.ts';
import type { SmsTemplate } from './catalogue.spec.ts';
import { formatKey, type MessageValues } from './message.compile.ts';

export interface SmsLayout {
  /** The WebOTP / origin-bound code line's domain: `@domain #code` ends every SMS. */
  webOtpDomain: string;
  /** The Android SMS Retriever app hash (11 characters): on the line before the WebOTP line. */
  appHash?: string | undefined;
}

/**
 * One SMS of the catalogue in `locale` (a catalogue locale): the wording, a blank line, the app
 * hash when there is one, and the WebOTP line last, which browsers require to be the last line.
 */
export function renderSms(
  catalogue: Catalogue,
  template: SmsTemplate,
  locale: string,
  productName: string,
  input: { code: string; values: MessageValues },
  layout: SmsLayout,
): { text: string; locale: string } {
  const body = formatKey(catalogue.sms(template, locale), 'body', {
    ...input.values,
    code: input.code,
    app: productName,
  });
  const hash = layout.appHash === undefined ? [] : [layout.appHash];
  return { text: [...body, '', ...hash, `@${layout.webOtpDomain} #${input.code}`].join('\n'), locale };
}

export interface SmsSize {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Characters as the encoding counts them (a GSM-7 extension character such as € counts two). */
  units: number;
}

/** How a text travels: its encoding, and how many segments (GSM-7: 160 per single one; UCS-2: 70). */
export function smsSize(text: string): SmsSize {
  const message = new SegmentedMessage(text, 'auto', false);
  const units = message.encodingName === 'GSM-7' ? message.messageSize / 7 : message.messageSize / 16;
  return { encoding: message.encodingName, segments: message.segmentsCount, units };
}
