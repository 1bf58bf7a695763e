/** How many whole minutes a code stays valid, as templates say it (rounded up, at least 1). */
export function minutesValid(expiresAt: Date, now: Date): number {
  return Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 60_000));
}
