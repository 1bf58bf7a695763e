import { describe, expect, it } from 'vitest';
import { clientNetwork, networkPrefix } from './client-network.ts';

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

describe('networkPrefix', () => {
  it('shows an IPv4 client as its /24 and an IPv6 client as its /64, never the address', () => {
    expect(networkPrefix(clientNetwork('203.0.113.77'))).toBe('203.0.113.0/24');
    expect(networkPrefix(clientNetwork('::ffff:198.51.100.9'))).toBe('198.51.100.0/24');
    expect(networkPrefix(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd'))).toBe('2001:db8:1:2::/64');
  });
});
