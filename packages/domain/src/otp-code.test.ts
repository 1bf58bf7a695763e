import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeMatches, generateNumericCode, hashCode } from './otp-code.ts';

const key = createSecretKey(randomBytes(32));
const challengeId = '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11';

describe('generateNumericCode', () => {
  it('gives only digits of the requested length, leading zeros kept', () => {
    const codes = Array.from({ length: 2000 }, () => generateNumericCode(6));
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    // P(no code starting with 0 in 2000) = 0.9^2000, far below any flake rate.
    expect(codes.some((code) => code.startsWith('0'))).toBe(true);
    expect(generateNumericCode(8)).toMatch(/^\d{8}$/);
  });

  it('spreads digits evenly in every position (chi-square, p > 10⁻⁶)', () => {
    // A threshold of p = 10⁻⁶ per position keeps a fair generator from failing this test more than
    // about once in 170,000 runs (at p = 0.001 it failed one run in 170); 50,000 samples still catch
    // one digit drawn 11% of the time instead of 10% (χ² ≈ 60).
    const samples = 50_000;
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0));
    for (let i = 0; i < samples; i++) {
      const code = generateNumericCode(6);
      for (let p = 0; p < 6; p++) {
        const row = counts[p] as number[];
        const digit = Number(code[p]);
        row[digit] = (row[digit] ?? 0) + 1;
      }
    }
    const expected = samples / 10;
    for (const position of counts) {
      const chi = position.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
      expect(chi).toBeLessThan(45); // 9 degrees of freedom: P(χ² > 45) ≈ 9·10⁻⁷
    }
  });

  it('refuses lengths outside 6..10', () => {
    expect(() => generateNumericCode(5)).toThrow(RangeError);
    expect(() => generateNumericCode(11)).toThrow(RangeError);
  });
});

describe('hashCode and codeMatches', () => {
  it('matches the right code only, for its own challenge only', () => {
    const stored = [hashCode(key, challengeId, '123456')];
    expect(codeMatches(key, challengeId, '123456', stored)).toBe(true);
    expect(codeMatches(key, challengeId, '123457', stored)).toBe(false);
    expect(codeMatches(key, '7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22', '123456', stored)).toBe(false);
    expect(codeMatches(createSecretKey(randomBytes(32)), challengeId, '123456', stored)).toBe(false);
  });

  it('matches any of the kept hashes (codes of earlier sends)', () => {
    const stored = ['111111', '222222', '333333'].map((code) => hashCode(key, challengeId, code));
    for (const code of ['111111', '222222', '333333']) expect(codeMatches(key, challengeId, code, stored)).toBe(true);
    expect(codeMatches(key, challengeId, '444444', stored)).toBe(false);
  });

  it('is a keyed MAC: not a plain hash of the code', () => {
    const digest = hashCode(key, challengeId, '123456');
    expect(digest).toHaveLength(32);
    expect(digest.toString('hex')).not.toContain(Buffer.from('123456').toString('hex'));
  });
});
