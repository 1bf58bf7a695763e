import { randomUUIDv7 } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';

/**
 * A challenge's id carries the millisecond it was created (a UUIDv7 whose timestamp is the
 * challenge's `created_at`), so a lookup by id can name the one day's partition that holds it
 * instead of probing every partition of `otp_challenges` (docs/scaling-postgres.md, "Partitioned
 * history"). The rest of the id is Node's: 74 random bits, and the version and variant.
 *
 * `at` must be the very `created_at` the challenge is written with (the gateway writes the
 * request's time, to the millisecond). An id that does not say when it was made (the version 4
 * ids written before this, or by hand) is looked up by id alone.
 */
export function newChallengeId(at: Date): string {
  const time = at.getTime().toString(16).padStart(12, '0');
  if (time.length !== 12) throw new RangeError('newChallengeId: time out of range');
  // Node's v7 has the version, the variant and the random bits; its timestamp becomes `at`'s.
  return `${time.slice(0, 8)}-${time.slice(8)}${randomUUIDv7().slice(13)}`;
}

/** When a version 7 id says it was made, as the half-open millisecond [from, to); else undefined. */
export function challengeCreatedWithin(id: string): { from: Date; to: Date } | undefined {
  // Only a well-formed v7 (the caller's schema checked the uuid shape; a lookup with anything else
  // finds nothing either way).
  if (id.length !== 36 || id[14] !== '7') return undefined;
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  if (!Number.isSafeInteger(ms)) return undefined;
  return { from: new Date(ms), to: new Date(ms + 1) };
}

/**
 * The statement's condition naming the challenge's partition (`AND <column> >= from AND <column>
 * < to`), or nothing for an id that does not say when it was made. Two statement texts in all,
 * each prepared once.
 */
export function inChallengePartition(
  id: string,
  column: 'created_at' | 'c.created_at' = 'created_at',
): RawBuilder<unknown> {
  const within = challengeCreatedWithin(id);
  if (within === undefined) return sql``;
  const ref = sql.ref(column);
  return sql` AND ${ref} >= ${within.from}::timestamptz AND ${ref} < ${within.to}::timestamptz`;
}

/** `id = <id>`, and the partition condition when the id names one: a lookup of one challenge. */
export function isChallenge(id: string): RawBuilder<boolean> {
  return sql<boolean>`id = ${id}::uuid${inChallengePartition(id)}`;
}
