import {
  clearRecipientFailures,
  countRemainingRecoveryCodes,
  type Database,
  deleteMfaTokens,
  findUserById,
  type Kysely,
  listFactors,
  listLiveSessions,
  listSecurityEvents,
  removeAllFactors,
  resetFactorFailures,
  revokeUserSessions,
  setUserDisabled,
  type User,
} from '@otp/db';
import { PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import { deleteAccount } from '../accounts/lifecycle/account-deletion.service.ts';
import { accountRecipientHashes, codeSignInLockedUntil } from '../codes/challenges/recipient-limits.ts';
import { type GatewayDeps, now } from '../deps.ts';
import { inTransaction } from '../events/record-event.ts';
import { requestContext } from '../events/request-context.ts';
import { networkPrefix } from '../http/client-network.ts';
import { recordAdminEvent } from './admin.events.ts';
import type { AdminUser, AdminUserDetail } from './admin-users.schemas.ts';

// What support does to one account. Each change runs in one transaction with the event that
// records it, so the audit trail never shows a change that did not happen, nor misses one.

export function presentAdminUser(user: User): AdminUser {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.email_verified_at !== null,
    phone: user.phone,
    phoneVerified: user.phone_verified_at !== null,
    name: user.name,
    createdAt: user.created_at.toISOString(),
    disabledAt: user.disabled_at?.toISOString() ?? null,
  };
}

function notFound(): PublicError {
  return new PublicError('not_found', { detail: 'no account has this id' });
}

/** The account with its factors, recovery codes left, live sessions, latest events and code lock. */
export async function viewUser(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<AdminUserDetail> {
  const user = await findUserById(deps.db, userId);
  if (user === undefined) throw notFound();
  const at = now(deps);
  const [factors, recoveryCodesRemaining, sessions, events, lockedUntil] = await Promise.all([
    listFactors(deps.db, userId),
    countRemainingRecoveryCodes(deps.db, userId),
    listLiveSessions(deps.db, userId, at, null),
    listSecurityEvents(deps.db, { userId }, undefined, 20),
    codeSignInLockedUntil(deps, user, at),
  ]);
  const factorLocked = user.factor_failures >= deps.config.FACTOR_LOCKOUT_FAILURES;
  await recordAdminEvent(deps.db, deps, request, 'admin.user_viewed', { userId });
  return {
    ...presentAdminUser(user),
    factors: factors.map((factor) => ({
      kind: factor.kind,
      createdAt: factor.created_at.toISOString(),
      enabled: factor.enabled_at !== null,
      locked: factorLocked,
    })),
    recoveryCodesRemaining,
    sessions: sessions.map((session) => ({
      id: session.id,
      createdAt: session.created_at.toISOString(),
      lastUsedAt: session.last_used_at.toISOString(),
      userAgent: session.user_agent,
      ipPrefix: session.client_network === null ? null : networkPrefix(session.client_network),
    })),
    recentSecurityEvents: events.rows.map((event) => ({
      type: event.type,
      createdAt: event.created_at.toISOString(),
      details: event.details,
    })),
    codeSignInLockedUntil: lockedUntil?.toISOString() ?? null,
  };
}

/** Runs `change` on an existing account in one transaction; 404 when there is none. */
async function onAccount<T>(
  deps: GatewayDeps,
  change: (trx: Kysely<Database>, at: Date) => Promise<T | undefined>,
): Promise<T> {
  const result = await inTransaction(deps.db, (trx) => change(trx, now(deps)));
  if (result === undefined) throw notFound();
  return result;
}

/**
 * Disables the account: `disabled_at` set under the row's lock, then every session and refresh
 * token revoked and pending mfaTokens spent, in that order (the lock orders it against sign-ins:
 * db's lockUserForSignIn). From the commit on every sign-in and access token answers 403
 * account_disabled.
 */
export async function disableUser(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  await onAccount(deps, async (trx, at) => {
    const changed = await setUserDisabled(trx, userId, at);
    if (changed === undefined) return undefined;
    const { sessionIds, tokens } = await revokeUserSessions(trx, userId, at, 'disabled');
    await deleteMfaTokens(trx, userId);
    await recordAdminEvent(trx, deps, request, 'admin.user_disabled', {
      userId,
      details: { wasDisabled: changed.wasDisabled, sessionIds, revoked: tokens },
    });
    return true;
  });
}

/** Enables the account again; the user signs in afresh (nothing revoked comes back). */
export async function enableUser(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  await onAccount(deps, async (trx) => {
    const changed = await setUserDisabled(trx, userId, null);
    if (changed === undefined) return undefined;
    await recordAdminEvent(trx, deps, request, 'admin.user_enabled', {
      userId,
      details: { wasDisabled: changed.wasDisabled },
    });
    return true;
  });
}

/** Ends every session of the account (a stolen device, a user locked out of their own). */
export async function revokeSessions(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  await onAccount(deps, async (trx, at) => {
    if ((await findUserById(trx, userId)) === undefined) return undefined;
    const { sessionIds, tokens } = await revokeUserSessions(trx, userId, at, 'revoked_by_operator');
    await recordAdminEvent(trx, deps, request, 'admin.sessions_revoked', {
      userId,
      details: { sessionIds, revoked: tokens },
    });
    return true;
  });
}

/**
 * Removes the TOTP/HOTP factors and recovery codes (a user who lost their authenticator and
 * their codes, once support has checked who they are) and ends the factor lock.
 */
export async function resetFactors(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  await onAccount(deps, async (trx) => {
    if ((await findUserById(trx, userId)) === undefined) return undefined;
    const removed = await removeAllFactors(trx, userId);
    await recordAdminEvent(trx, deps, request, 'admin.factors_reset', { userId, details: removed });
    return true;
  });
}

/**
 * Ends the account's locks: the factor lock (consecutive wrong factor codes) and the wrong-code
 * locks of its email address and phone number (their recipient windows' failure counts).
 */
export async function unlockUser(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  await onAccount(deps, async (trx) => {
    const user = await findUserById(trx, userId);
    if (user === undefined) return undefined;
    const factorLock = user.factor_failures >= deps.config.FACTOR_LOCKOUT_FAILURES;
    await resetFactorFailures(trx, userId);
    const recipients = await clearRecipientFailures(trx, accountRecipientHashes(deps, user));
    await recordAdminEvent(trx, deps, request, 'admin.user_unlocked', {
      userId,
      details: { factorLock, recipients },
    });
    return true;
  });
}

/**
 * Deletes the account as DELETE /v1/me does (deleteAccount: every personal datum, the audit trail
 * anonymised, the account-deleted notice), with `by: operator` naming the key. The operator's own
 * audit row, `admin.user_deleted`, names no account: the id would tie the anonymised trail back
 * to the person.
 */
export async function deleteUser(deps: GatewayDeps, request: FastifyRequest, userId: string): Promise<void> {
  const operator = request.admin?.operator;
  await onAccount(deps, async (trx) => {
    const deleted = await deleteAccount(trx, deps, userId, requestContext(request, deps), {
      by: 'operator',
      ...(operator === undefined ? {} : { operator }),
    });
    if (deleted === undefined) return undefined;
    await recordAdminEvent(trx, deps, request, 'admin.user_deleted', {
      details: { challenges: deleted.challenges, sessions: deleted.sessions },
    });
    return true;
  });
}
