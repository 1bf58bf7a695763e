import { type RawBuilder, sql } from 'kysely';

// SQL shared by the statements that ask whether an account has a second factor. Internal to this
// package; the repositories export the statements.

/**
 * Whether the account `userId` (an SQL expression: a parameter or a column) has an enabled
 * second factor: a `user_factors` row whose enrolment is finished.
 */
export function hasEnabledFactor(userId: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM user_factors AS factor
    WHERE factor.user_id = ${userId} AND factor.enabled_at IS NOT NULL)`;
}
