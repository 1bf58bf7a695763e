import { requestedLocales } from '@otp/messages';
import type { FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../deps.ts';

// The language of the messages a request causes. The catalogue matches what was asked to the
// closest locale it has (`de-CH` → `de`, `pt` → `pt-BR`, one it lacks → DEFAULT_LOCALE), so what
// these return is always a locale a worker can render, and it is what a send records.

type Deps = Pick<GatewayDeps, 'catalogue'>;

/**
 * The catalogue locale of a request: its body's `locale`, else its Accept-Language header (by
 * q-value; `*` and malformed tags are skipped, so a garbled header is no header), else
 * DEFAULT_LOCALE.
 */
export function requestLocale(deps: Deps, request: FastifyRequest, bodyLocale?: string): string {
  return deps.catalogue.resolve(requestedLocales(bodyLocale, request.headers['accept-language']));
}

/**
 * As requestLocale, for a request of a signed-in account: when it names no language (body or
 * header), the account's stored one before DEFAULT_LOCALE. `stored` is only called then, so a
 * request that names its language costs no read.
 */
export async function accountRequestLocale(
  deps: Deps,
  request: FastifyRequest,
  bodyLocale: string | undefined,
  stored: () => Promise<string | null | undefined>,
): Promise<string> {
  const asked = requestedLocales(bodyLocale, request.headers['accept-language']);
  if (asked.length === 0) {
    const locale = await stored();
    if (locale != null) asked.push(locale);
  }
  return deps.catalogue.resolve(asked);
}
