import { isIPv4 } from 'node:net';
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

/**
 * What a client is shown of a stored network (`clientNetwork`): an IPv6 /64 as is, an IPv4
 * address only as its /24 (`203.0.113.0/24`). A full IPv4 address often names one household or
 * one phone; the /24 still tells an owner "my provider, my city" from "somewhere else", which
 * is what a sessions list is for.
 */
export function networkPrefix(network: string): string {
  if (isIPv4(network)) return `${network.split('.').slice(0, 3).join('.')}.0/24`;
  return `${network}/64`;
}
