import { insertUserWithPassword } from '@otp/db';
import { normalizeEmail, PublicError } from '@otp/domain';
import { requestChallenge } from '../../codes/challenges/challenge.request.service.ts';
import type { GatewayDeps } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
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
  const user = await inTransaction(deps.db, async (trx) => {
    const inserted = await insertUserWithPassword(trx, { email, passwordHash, name: input.name ?? null });
    if (inserted === undefined) throw new PublicError('email_taken');
    await recordEvent(trx, context, 'user.registered', { userId: inserted.id, details: { method: 'password' } });
    return inserted;
  });
  const challenge = await requestChallenge(
    deps,
    { channel: 'email', to: email, purpose: 'verify_email', locale: input.locale, userId: user.id },
    context,
  );
  return { user: presentUser(user), challengeId: challenge.id };
}
