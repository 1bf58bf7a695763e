import { randomUUID } from 'node:crypto';
import { type Database, insertSessionWithToken, type Kysely } from '@otp/db';
import type { GatewayDeps } from '../../deps.ts';
import { recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { clientNetwork } from '../../http/client-network.ts';
import type { Tokens } from '../users/user.schemas.ts';
import { newRefreshToken, tokenPair, tokenSettings, type VerifiedContact } from './tokens.service.ts';

/** How long a device (user agent and network) stays known to an account after its last use. */
export const KNOWN_DEVICE_DAYS = 90;

export interface StartedSession {
  sessionId: string;
  tokens: Tokens;
}

/** Who signed in, and how. */
export interface SignInProof {
  userId: string;
  /** RFC 8176 values of every factor proved (amr.ts), kept on the session for its refreshes. */
  amr: string[];
  /** The account's verified addresses, read under the sign-in's lock (the optional contact claims). */
  contact: VerifiedContact;
}

/**
 * A new sign-in, once the user has proved who they are (a password and any second factor, or a
 * code): a session row, its first refresh token and an access token whose `auth_time` is now and
 * whose `amr` says how the user proved it.
 * Call inside the transaction that proves it.
 *
 * A sign-in from a device (user agent and client /64) the account has not used in 90 days records
 * `sign_in.new_device`, which sends the owner a notice. Not for the account's first sign-in ever
 * (nothing to compare with: the owner has just proved the address), nor while the account has a
 * recent session from before sessions recorded devices (an upgrade does not email every user).
 */
export async function startSession(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  context: RequestContext,
  proof: SignInProof,
  at: Date,
): Promise<StartedSession> {
  const { userId, amr, contact } = proof;
  const settings = tokenSettings(deps);
  const device = { userAgent: context.userAgent, clientNetwork: clientNetwork(context.ip) };
  const since = new Date(at.getTime() - KNOWN_DEVICE_DAYS * 86_400_000);
  const sessionId = randomUUID();
  const expiresAt = new Date(at.getTime() + settings.familyTtlSeconds * 1000);
  const row = {
    id: sessionId,
    user_id: userId,
    last_used_at: at,
    expires_at: expiresAt,
    auth_time: at,
    amr,
    user_agent: device.userAgent,
    client_network: device.clientNetwork,
  };
  const position = { sessionId, userId, expiresAt, authTime: at, amr, contact };
  const { refreshToken, row: tokenRow } = newRefreshToken(settings, position, at);
  // One statement: the session, its first refresh token, and the device's history before them.
  const history = await insertSessionWithToken(trx, row, tokenRow, since);
  if (history.signedInBefore && !history.seenRecently && !history.unknownRecently) {
    await recordEvent(trx, context, 'sign_in.new_device', { userId, details: { sessionId } });
  }
  const tokens = await tokenPair(settings, position, at, refreshToken);
  return { sessionId, tokens };
}
