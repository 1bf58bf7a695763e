import { describe, expect, it } from 'vitest';
import { hotpCode, matchHotp, matchTotp, type OtpAlgorithm, totpStep } from './oath.algorithm.ts';

// RFC 4226 Appendix D: secret "12345678901234567890", SHA-1, 6 digits, counters 0..9.
const RFC4226_SECRET = Buffer.from('12345678901234567890', 'ascii');
const RFC4226_CODES = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

// RFC 6238 Appendix B, with the seeds of the RFC errata (erratum 2866): 20, 32 and 64 bytes.
const SEEDS: Record<OtpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890', 'ascii'),
  sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};
const RFC6238: Array<[number, Record<OtpAlgorithm, string>]> = [
  [59, { sha1: '94287082', sha256: '46119246', sha512: '90693936' }],
  [1111111109, { sha1: '07081804', sha256: '68084774', sha512: '25091201' }],
  [1111111111, { sha1: '14050471', sha256: '67062674', sha512: '99943326' }],
  [1234567890, { sha1: '89005924', sha256: '91819424', sha512: '93441116' }],
  [2000000000, { sha1: '69279037', sha256: '90698825', sha512: '38618901' }],
  [20000000000, { sha1: '65353130', sha256: '77737706', sha512: '47863826' }],
];

describe('RFC 4226 Appendix D (HOTP)', () => {
  it.each(RFC4226_CODES.map((code, counter) => [counter, code] as const))('counter %i is %s', (counter, code) => {
    expect(hotpCode(RFC4226_SECRET, counter, { algorithm: 'sha1', digits: 6 })).toBe(code);
    // The validation the routes run finds exactly this counter from 0 with a window of 10.
    expect(matchHotp(RFC4226_SECRET, code, { algorithm: 'sha1', digits: 6, counter: 0, window: 10 })).toBe(counter);
  });
});

describe('RFC 6238 Appendix B (TOTP)', () => {
  for (const [seconds, codes] of RFC6238) {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      it(`${algorithm} at ${seconds}s is ${codes[algorithm]}`, () => {
        const at = new Date(seconds * 1000);
        const options = { algorithm, digits: 8, period: 30, drift: 0, lastStep: null };
        expect(matchTotp(SEEDS[algorithm], codes[algorithm], at, options)).toBe(totpStep(at, 30));
      });
    }
  }
});

describe('TOTP validation', () => {
  const secret = SEEDS.sha1;
  const base = { algorithm: 'sha1' as const, digits: 6, period: 30, drift: 1 };
  const at = new Date(1_700_000_000_000);
  const step = totpStep(at, 30);
  const codeAt = (offset: number) => hotpCode(secret, step + offset, base);

  it('accepts one step either side and refuses two', () => {
    expect(matchTotp(secret, codeAt(-1), at, { ...base, lastStep: null })).toBe(step - 1);
    expect(matchTotp(secret, codeAt(1), at, { ...base, lastStep: null })).toBe(step + 1);
    expect(matchTotp(secret, codeAt(-2), at, { ...base, lastStep: null })).toBeUndefined();
    expect(matchTotp(secret, codeAt(2), at, { ...base, lastStep: null })).toBeUndefined();
  });

  it('refuses a code of the last accepted step or earlier', () => {
    expect(matchTotp(secret, codeAt(0), at, { ...base, lastStep: step })).toBeUndefined();
    expect(matchTotp(secret, codeAt(-1), at, { ...base, lastStep: step - 1 })).toBeUndefined();
    expect(matchTotp(secret, codeAt(1), at, { ...base, lastStep: step })).toBe(step + 1);
  });
});
