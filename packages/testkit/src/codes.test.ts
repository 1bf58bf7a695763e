import { describe, expect, it } from 'vitest';
import { extractCode } from './codes.ts';

describe('extractCode', () => {
  it('finds the first run of exactly six digits, leading zeros kept', () => {
    expect(extractCode('Your code is 004211. It expires in 10 minutes.')).toBe('004211');
    expect(extractCode('Call +14155550123, code 123456, again 654321')).toBe('123456');
  });

  it('honours another length', () => {
    expect(extractCode('code 12345678 sent', 8)).toBe('12345678');
  });

  it('throws when there is no code, without echoing the text', () => {
    expect(() => extractCode('no digits for ada@example.com')).toThrow(/no 6-digit code/);
    expect(() => extractCode('no digits for ada@example.com')).not.toThrow(/ada@example.com/);
  });
});
