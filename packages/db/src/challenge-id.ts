import { randomUUIDv7 } from 'node:crypto';

/**
 * A challenge's id: a UUIDv7 whose timestamp is `at`, the challenge's `created_at`. Ids made in
 * time order land at the right-hand edge of the id indexes (the challenge's primary key, its
 * attempts' and outbox rows' `challenge_id`) instead of on a random page of them, so a code
 * request dirties and logs fewer index pages (docs/scaling-postgres.md, "Partitioned history").
 * The rest of the id is Node's: 74 random bits, the version and the variant. The time it shows is
 * no secret: whoever is shown a challenge's id (its requester, the server whose key made it, a
 * webhook receiver) is told when it was made anyway.
 */
export function newChallengeId(at: Date): string {
  const time = at.getTime().toString(16).padStart(12, '0');
  if (time.length !== 12) throw new RangeError('newChallengeId: time out of range');
  // Node's v7 has the version, the variant and the random bits; its timestamp becomes `at`'s.
  return `${time.slice(0, 8)}-${time.slice(8)}${randomUUIDv7().slice(13)}`;
}
