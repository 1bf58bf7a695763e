import { registerPasswordAccount, setRegistrationChallenge } from '@otp/db';
import { normalizeEmail } from '@otp/domain';
import { requestChallenge } from '../../codes/challenges/challenge.request.service.ts';
import type { GatewayDeps } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';

export interface Registration {
  email: string;
  password: string;
  name: string | undefined;
  /** The catalogue locale of the message; a new or unverified account keeps it as its language. */
  locale: string;
}

const EVENT_OF = {
  created: 'user.registered',
  renewed: 'user.registration_renewed',
  exists: 'user.registration_existing',
} as const;

/**
 * Registration that tells nobody whether the address has an account: every address gets the
 * same answer (a verify_email challenge id), the same work (one Argon2id hash, one transaction,
 * one message) and a real message. A new account, or one whose email nobody verified yet (its
 * password replaced: whoever proves the address decides), gets a code; an address whose account
 * is verified gets the account-exists email (how to sign in or reset), whose challenge no code
 * verifies. The account and its challenge commit together: no account exists without its message
 * accepted, and a refused challenge (the recipient's limit) leaves no account behind.
 */
export async function register(
  deps: GatewayDeps,
  context: RequestContext,
  input: Registration,
): Promise<{ challengeId: string }> {
  const email = normalizeEmail(input.email);
  // Hashed whatever the address, so a verified address costs the time a new one does.
  const passwordHash = await deps.passwords.hash(input.password);
  const challengeId = await inTransaction(deps.db, async (trx) => {
    const { user, outcome } = await registerPasswordAccount(trx, {
      email,
      passwordHash,
      name: input.name?.trim() ?? null,
      locale: input.locale,
    });
    const challenge = await requestChallenge(
      deps,
      {
        channel: 'email',
        to: email,
        purpose: 'verify_email',
        locale: input.locale,
        userId: user.id,
        template: outcome === 'exists' ? 'account-exists' : 'otp-code',
      },
      context,
      trx,
    );
    // Proving the address with this challenge keeps what the registrant set; any other proof
    // removes it (challenge-purposes.ts).
    if (outcome !== 'exists') await setRegistrationChallenge(trx, user.id, challenge.id);
    await recordEvent(trx, context, EVENT_OF[outcome], {
      userId: user.id,
      details: { method: 'password', challengeId: challenge.id },
    });
    return challenge.id;
  });
  deps.relay.nudge();
  return { challengeId };
}
