import { normalizeIP } from '@fastify/rate-limit';

/**
 * The network a client address stands for: an IPv4 address itself, an IPv6 address its /64 (the
 * start address, e.g. `2001:db8:1:2::`), an IPv4-mapped IPv6 address its IPv4 form. One IPv6
 * host is usually given a whole /64 and can rotate within it at will, so limits and "have we seen
 * this device" both key by the /64, as the per-IP rate limits do.
 */
export function clientNetwork(ip: string): string {
  return normalizeIP(ip, 64);
}
