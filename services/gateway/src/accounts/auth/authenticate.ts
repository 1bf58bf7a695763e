import { PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import { type TokenSettings, verifyAccessToken } from './tokens.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on routes that require an access token. */
    userId: string | null;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/** A preHandler that accepts only a valid Bearer access token and sets `request.userId`. */
export function authenticate(settings: TokenSettings) {
  return async function requireAccessToken(request: FastifyRequest): Promise<void> {
    const match = BEARER.exec(request.headers.authorization ?? '');
    let userId: string | undefined;
    if (match?.[1] !== undefined) {
      userId = await verifyAccessToken(settings, match[1]).catch(() => undefined);
    }
    if (userId === undefined)
      throw new PublicError('unauthorized', { detail: 'a valid Bearer access token is required' });
    request.userId = userId;
  };
}
