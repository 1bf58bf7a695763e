import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.ts';

describe('clientNetwork', () => {
  it('keeps an IPv4 address whole', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  });

  it('gives every address of one IPv6 /64 the same key, and another /64 another', () => {
    const a = clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    expect(clientNetwork('2001:db8:1:2::1')).toBe(a);
    expect(clientNetwork('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(a);
    expect(clientNetwork('2001:db8:1:3::1')).not.toBe(a);
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });
});
