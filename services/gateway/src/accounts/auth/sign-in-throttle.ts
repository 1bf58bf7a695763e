import { countSecurityEventsSince } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { GatewayDeps } from '../../deps.ts';
import { rateLimitNamespace } from '../../http/rate-limit.plugin.ts';

/** Who a failed sign-in counts against: the address tried (keyed hash) and the client IP. */
export interface SignInSubject {
  /** Hex keyed hash of the normalised email: the same whether or not an account exists. */
  accountKey: string;
  ip: string;
  /** The account, when one exists; used only by the Postgres fallback. */
  userId: string | undefined;
}

/**
 * Failed password sign-ins, counted per address and per client IP in Redis (shared by every
 * replica), in a fixed window that starts at the first failure. While Redis is unreachable the
 * counts come from the audit trail in Postgres instead (failures per IP and per existing account
 * in the same window): fail-safe, neither "no sign-in" nor "no limit" during a Redis outage.
 */
export function createSignInThrottle(deps: Pick<GatewayDeps, 'redis' | 'db' | 'config' | 'log'>) {
  const { redis, config } = deps;
  const window = config.SIGN_IN_FAILURE_WINDOW_SECONDS;
  const namespace = `${rateLimitNamespace(config.QUEUE_PREFIX)}sign-in:`;
  const keys = (subject: SignInSubject) => ({
    account: `${namespace}account:${subject.accountKey}`,
    ip: `${namespace}ip:${subject.ip}`,
  });
  const throttled = (retryAfterSeconds: number) =>
    new PublicError('sign_in_throttled', { retryAfterSeconds: Math.max(1, retryAfterSeconds) });

  async function fallbackCheck(subject: SignInSubject, at: Date): Promise<void> {
    const since = new Date(at.getTime() - window * 1000);
    const byIp = await countSecurityEventsSince(deps.db, 'sign_in.failed', { ip: subject.ip }, since);
    const byAccount =
      subject.userId === undefined
        ? 0
        : await countSecurityEventsSince(deps.db, 'sign_in.failed', { userId: subject.userId }, since);
    if (byIp >= config.SIGN_IN_FAILURES_PER_IP || byAccount >= config.SIGN_IN_FAILURES_PER_ACCOUNT) {
      throw throttled(window);
    }
  }

  return {
    /** Throws sign_in_throttled (429, Retry-After) when either count is at its limit. */
    async check(subject: SignInSubject, at: Date): Promise<void> {
      const { account, ip } = keys(subject);
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await redis.multi().get(account).ttl(account).get(ip).ttl(ip).exec();
      } catch (error) {
        deps.log.warn(
          { err: { message: (error as Error).message } },
          'sign-in throttle: Redis unavailable, using Postgres',
        );
        return fallbackCheck(subject, at);
      }
      const value = (index: number) => Number(replies?.[index]?.[1] ?? 0);
      if (value(0) >= config.SIGN_IN_FAILURES_PER_ACCOUNT) throw throttled(value(1));
      if (value(2) >= config.SIGN_IN_FAILURES_PER_IP) throw throttled(value(3));
    },

    /** Counts a failure against both keys; the window starts at the first one. */
    async recordFailure(subject: SignInSubject): Promise<void> {
      const { account, ip } = keys(subject);
      await redis
        .multi()
        .set(account, 0, 'EX', window, 'NX')
        .incr(account)
        .set(ip, 0, 'EX', window, 'NX')
        .incr(ip)
        .exec()
        // The audit row of the failure is the fallback's record; nothing more to do here.
        .catch(() => undefined);
    },

    /** A successful sign-in clears the address's count (not the IP's). */
    async recordSuccess(subject: SignInSubject): Promise<void> {
      await redis.del(keys(subject).account).catch(() => undefined);
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
