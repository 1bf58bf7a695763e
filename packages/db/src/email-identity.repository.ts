import { type EventType, normalizeEmail } from '@otp/domain';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';
import { insertSecurityEvent } from './security-event.repository.ts';

type Db = Kysely<Database>;

// Accounts whose stored address is not its own normal form (one identity per address, issue 12).
// The migration to the normal form converted every account alone on its form; where several
// accounts would have met on one address it kept them all in their old forms, and during a rolling
// upgrade a replica still on the old release may write an old form. The old form is the record:
// these functions find such accounts by it, and `pnpm accounts:conflicts` (email-conflicts.cli.ts)
// lists and resolves them.

export interface EmailIdentityAccount {
  id: string;
  /** The address as stored: an old form, or (for the account holding it) the normal form. */
  email: string;
  createdAt: Date;
  emailVerifiedAt: Date | null;
  hasPassword: boolean;
  /** Enabled authenticator factors. */
  factors: number;
  /** Refresh tokens still live (signed-in devices). */
  sessions: number;
  lastSignInAt: Date | null;
}

/**
 * The accounts that share one normal form: the one holding it (if any) first, then the others
 * oldest first. An account alone in its group needs converting only.
 */
export interface EmailIdentityGroup {
  email: string;
  accounts: EmailIdentityAccount[];
}

export interface EmailIdentityResolution {
  email: string;
  kept: string;
  removed: string[];
}

const SIGN_IN: EventType = 'sign_in.succeeded';
const RESOLVED: EventType = 'user.email_conflict_resolved';

/** Account ids by the normal form they share, for every form some stored address is not yet in. */
async function idsByForm(db: Db): Promise<Map<string, string[]>> {
  // Only an address with an ASCII capital or a non-ASCII character can be out of the normal form.
  const candidates = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where(sql<boolean>`email COLLATE "C" <> lower(email COLLATE "C") OR octet_length(email) <> char_length(email)`)
    .orderBy('created_at')
    .execute();
  const groups = new Map<string, string[]>();
  for (const { id, email } of candidates) {
    let form: string;
    try {
      form = normalizeEmail(email ?? '');
    } catch {
      continue; // an address today's rules refuse has no normal form to meet another on
    }
    if (form !== email) groups.set(form, [...(groups.get(form) ?? []), id]);
  }
  if (groups.size === 0) return groups;
  const holders = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where(sql<boolean>`email = ANY(${[...groups.keys()]}::text[])`)
    .execute();
  for (const { id, email } of holders) groups.get(email ?? '')?.unshift(id);
  return groups;
}

async function describeAccounts(db: Db, ids: string[]): Promise<Map<string, EmailIdentityAccount>> {
  const rows = await sql<{
    id: string;
    email: string;
    created_at: Date;
    email_verified_at: Date | null;
    has_password: boolean;
    factors: number;
    sessions: number;
    last_sign_in_at: Date | null;
  }>`
    SELECT u.id, u.email, u.created_at, u.email_verified_at, u.password_hash IS NOT NULL AS has_password,
      (SELECT count(*) FROM user_factors f WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL)::int AS factors,
      (SELECT count(*) FROM refresh_tokens t
        WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > now() AND t.family_expires_at > now())::int
        AS sessions,
      (SELECT max(e.created_at) FROM security_events e WHERE e.user_id = u.id AND e.type = ${SIGN_IN}) AS last_sign_in_at
    FROM users u WHERE u.id = ANY(${ids}::uuid[])
  `.execute(db);
  return new Map(
    rows.rows.map((row) => [
      row.id,
      {
        id: row.id,
        email: row.email,
        createdAt: row.created_at,
        emailVerifiedAt: row.email_verified_at,
        hasPassword: row.has_password,
        factors: row.factors,
        sessions: row.sessions,
        lastSignInAt: row.last_sign_in_at,
      },
    ]),
  );
}

/** Every normal form that an account's stored address is not yet in, with the accounts it concerns. */
export async function findEmailIdentityGroups(db: Db): Promise<EmailIdentityGroup[]> {
  const groups = await idsByForm(db);
  const accounts = await describeAccounts(db, [...groups.values()].flat());
  return [...groups.entries()].map(([email, ids]) => ({
    email,
    accounts: ids.flatMap((id) => accounts.get(id) ?? []),
  }));
}

/**
 * Keeps one account for its address: the others that share its normal form are deleted with all
 * they hold (sessions, factors, recovery codes, challenges, by ON DELETE CASCADE; their audit
 * rows stay, without the link), and the kept account's address takes the normal form. Nothing
 * moves between accounts: they may belong to two people, and a password, factor or session moved
 * over would let one into the other's account. One transaction, the group's rows locked first;
 * an account written meanwhile in the normal form makes the UPDATE fail on the unique address,
 * and nothing changes.
 */
export async function keepEmailIdentity(db: Db, keepUserId: string): Promise<EmailIdentityResolution> {
  return db.transaction().execute(async (trx) => {
    const group = [...(await idsByForm(trx)).entries()].find(([, ids]) => ids.includes(keepUserId));
    if (group === undefined)
      throw new Error(`account ${keepUserId} is in the normal form and shares its address with none`);
    const [email, ids] = group;
    await trx.selectFrom('users').select('id').where('id', 'in', ids).forUpdate().execute();
    const removed = ids.filter((id) => id !== keepUserId);
    if (removed.length > 0) await trx.deleteFrom('users').where('id', 'in', removed).execute();
    const kept = await trx
      .updateTable('users')
      .set({ email, updated_at: sql<Date>`now()` })
      .where('id', '=', keepUserId)
      .executeTakeFirst();
    // Another run may have deleted it between the read and the lock.
    if (kept.numUpdatedRows !== 1n) throw new Error(`account ${keepUserId} no longer exists`);
    await insertSecurityEvent(trx, {
      type: RESOLVED,
      userId: keepUserId,
      ip: null,
      userAgent: null,
      requestId: null,
      details: { removedUserIds: removed },
    });
    return { email, kept: keepUserId, removed };
  });
}
