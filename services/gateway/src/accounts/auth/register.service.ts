import { insertUserWithPassword } from '@otp/db';
import { normalizeEmail, PublicError } from '@otp/domain';
import { requestChallenge } from '../../codes/challenges/challenge.request.service.ts';
import type { GatewayDeps } from '../../deps.ts';
import { type RequestContext, recordSecurityEvent } from '../../events/security-events.ts';
import { presentUser } from '../users/user.presenter.ts';
import type { UserView } from '../users/user.schemas.ts';

export interface Registration {
  email: string;
  password: string;
  name: string | undefined;
  locale: string;
}

/**
 * Creates an account with an Argon2id password hash and sends a verify_email code to the address
 * (emailVerified turns true when that challenge is verified). The password is hashed before the
 * insert, so a taken address costs the same time as a free one.
 */
export async function register(
  deps: GatewayDeps,
  context: RequestContext,
  input: Registration,
): Promise<{ user: UserView; challengeId: string }> {
  const email = normalizeEmail(input.email);
  const passwordHash = await deps.passwords.hash(input.password);
  const user = await insertUserWithPassword(deps.db, { email, passwordHash, name: input.name ?? null });
  if (user === undefined) throw new PublicError('email_taken');
  await recordSecurityEvent(deps.db, context, 'user.registered', { userId: user.id, details: { method: 'password' } });
  const challenge = await requestChallenge(
    deps,
    {
      channel: 'email',
      to: email,
      purpose: 'verify_email',
      locale: input.locale,
      requestId: context.requestId,
      traceparent: context.traceparent,
      clientIp: context.ip,
      userId: user.id,
    },
    context.log,
  );
  return { user: presentUser(user), challengeId: challenge.id };
}
