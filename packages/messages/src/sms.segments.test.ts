import { PURPOSES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue.loader.ts';
import { renderSms, type SmsSize, smsSize } from './sms.render.ts';

/**
 * Every shipped locale's code SMS travels as one GSM-7 segment at its longest: a code SMS split
 * in two costs double, may arrive out of order (the WebOTP line must be last), and a single
 * character outside GSM-7 switches the whole text to UCS-2, where 70 characters is one segment.
 * The longest inputs the product allows: a 10-digit code, a 20-character product name, a
 * 40-character WebOTP domain, the 11-character app hash, and every lifetime from 1 to 99 minutes.
 */

const catalogue = loadCatalogue({ defaultLocale: 'en' });
const APP = 'Twenty Chars Product'; // 20 GSM-7 basic characters
const DOMAIN = `${'a'.repeat(28)}.example.com`; // 40 characters
const APP_HASH = 'FA+9qCX9VSu'; // an Android SMS Retriever hash: 11 characters
const CODE_LENGTHS = [4, 5, 6, 7, 8, 9, 10];
const MINUTES = Array.from({ length: 99 }, (_, i) => i + 1);

/**
 * smsSize, measured once per shape of text: texts that differ only in their digits (the code, the
 * minutes) have the same size, a digit being one unit of GSM-7's basic set, so each distinct text
 * with its digits replaced by 0 is measured once. Every case is still rendered and checked; the
 * calculator costs about a millisecond a text, and there are about 7,000 cases per locale.
 */
const sizes = new Map<string, SmsSize>();
function sizeOf(text: string): SmsSize {
  const shape = text.replace(/[0-9]/g, '0');
  let size = sizes.get(shape);
  if (size === undefined) {
    size = smsSize(shape);
    sizes.set(shape, size);
  }
  return size;
}

describe('the code SMS of every shipped locale', () => {
  it('has the inputs this test means to use', () => {
    expect(APP).toHaveLength(20);
    expect(DOMAIN).toHaveLength(40);
    expect(APP_HASH).toHaveLength(11);
    expect(catalogue.locales).toContain('en');
  });

  it.each(catalogue.locales)('%s fits one GSM-7 segment, the WebOTP line last', (locale) => {
    const problems: string[] = [];
    let longest = { units: 0, text: '' };
    for (const purpose of PURPOSES) {
      for (const length of CODE_LENGTHS) {
        const code = '9876543210'.slice(0, length);
        for (const minutes of MINUTES) {
          for (const appHash of [undefined, APP_HASH]) {
            const { text } = renderSms(
              catalogue,
              'otp-code',
              locale,
              APP,
              { code, values: { purpose, minutes } },
              { webOtpDomain: DOMAIN, appHash },
            );
            const size = sizeOf(text);
            const at = `${locale} purpose=${purpose} code=${length} digits minutes=${minutes} ${appHash === undefined ? 'without' : 'with'} app hash`;
            if (size.encoding !== 'GSM-7' || size.segments !== 1) {
              const outside = [...text].filter((char) => smsSize(char).encoding !== 'GSM-7');
              problems.push(
                `${at}: ${size.encoding}, ${size.units} units, ${size.segments} segments` +
                  (outside.length > 0 ? ` (not GSM-7: ${[...new Set(outside)].join(' ')})` : '') +
                  `\n  ${JSON.stringify(text)}`,
              );
            }
            if (size.units > longest.units) longest = { units: size.units, text };
            const lines = text.split('\n');
            if (lines.at(-1) !== `@${DOMAIN} #${code}`) problems.push(`${at}: the WebOTP line is not the last line`);
            if (appHash !== undefined && lines.at(-2) !== appHash) {
              problems.push(`${at}: the app hash is not on the line before the WebOTP line`);
            }
            if (!lines[0]?.includes(code)) problems.push(`${at}: the wording does not show the code`);
          }
        }
      }
    }
    // Only the first few: one wording mistake fails every case alike.
    expect(
      problems.slice(0, 10),
      `${problems.length} failing cases; the first ones:\n${problems.slice(0, 10).join('\n')}`,
    ).toEqual([]);
    expect(longest.units, `the longest ${locale} SMS:\n${longest.text}`).toBeLessThanOrEqual(160);
  });
});
