import { countSecurityEventsSince } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { RedisClient } from '@otp/runtime';
import type { GatewayDeps } from '../../deps.ts';
import { clientNetwork } from '../../http/client-network.ts';
import { rateLimitNamespace } from '../../http/rate-limit.plugin.ts';
import { RELEASE_ATTEMPT, RESERVE_ATTEMPT } from './sign-in-throttle.scripts.ts';

/** Who a failed sign-in counts against: the address tried (keyed hash) and the client IP. */
export interface SignInSubject {
  /** Hex keyed hash of the normalised email: the same whether or not an account exists. */
  accountKey: string;
  /** The client address; counted by its network (an IPv6 address by its /64). */
  ip: string;
  /** The account, when one exists; used only by the Postgres fallback. */
  userId: string | undefined;
}

/** An attempt counted before its password is checked. A wrong password simply keeps it. */
export interface SignInReservation {
  /** The right password: clears the account's count and gives back the network's reservation. */
  succeeded(): Promise<void>;
  /**
   * The attempt reached no verdict on the password (the hashing queue was full, an error), or
   * the right password could not sign in yet (unverified address): gives back both reservations.
   */
  release(): Promise<void>;
}

interface ThrottleCommands {
  signInReserve(key: string, limit: number, windowSeconds: number): Promise<[0 | 1, number]>;
  signInRelease(key: string): Promise<number>;
}

const withThrottleCommands = new WeakSet<RedisClient>();

/**
 * The scripts as commands on this connection (EVALSHA, falling back to EVAL once per script),
 * defined once per connection however many route groups use the throttle. The connection keeps
 * them out of auto-pipelining (createProducerRedis says why).
 */
function throttleCommands(redis: RedisClient): ThrottleCommands {
  if (!withThrottleCommands.has(redis)) {
    redis.defineCommand('signInReserve', RESERVE_ATTEMPT);
    redis.defineCommand('signInRelease', RELEASE_ATTEMPT);
    withThrottleCommands.add(redis);
  }
  return redis as unknown as ThrottleCommands;
}

const NOTHING_TO_GIVE_BACK: SignInReservation = { succeeded: async () => {}, release: async () => {} };

/**
 * Failed password sign-ins, counted per address and per client network in Redis (shared by every
 * replica), in a fixed window that starts at the first attempt.
 *
 * The attempt is counted (reserved) *before* Argon2 runs, by a script that counts only below the
 * limit: N parallel wrong passwords count exactly N, and with a limit L exactly L reach Argon2;
 * the others are refused without hashing. (Checking first and counting after the hash let every
 * request of a burst pass the check before any was counted.) The account key is reserved first,
 * then the network's; when the network refuses, the account's reservation is given back. Each
 * script touches one key, so each runs in one hash slot (Redis Cluster).
 *
 * While Redis is unreachable the counts come from the audit trail in Postgres instead
 * (`sign_in.failed` per IP address and per existing account in the window): fail-safe, neither
 * "no sign-in" nor "no limit" during a Redis outage. That fallback checks before the hash and the
 * failure is written after it, so it is NOT exact under concurrency: a burst that arrives while
 * Redis is down can pass the check together (up to the hashing bound per replica beyond the
 * limit). It also counts by exact address, not by /64.
 */
export function createSignInThrottle(deps: Pick<GatewayDeps, 'redis' | 'db' | 'config' | 'log'>) {
  const { config } = deps;
  const redis = throttleCommands(deps.redis);
  const window = config.SIGN_IN_FAILURE_WINDOW_SECONDS;
  const namespace = `${rateLimitNamespace(config.QUEUE_PREFIX)}sign-in:`;
  const keys = (subject: SignInSubject) => ({
    account: `${namespace}account:${subject.accountKey}`,
    network: `${namespace}ip:${clientNetwork(subject.ip)}`,
  });
  const throttled = (retryAfterSeconds: number) =>
    new PublicError('sign_in_throttled', { retryAfterSeconds: Math.max(1, retryAfterSeconds) });
  const giveBack = (key: string) =>
    // At worst an attempt stays counted until the window ends: failing closed, as a failure would.
    redis.signInRelease(key).then(
      () => undefined,
      (error: Error) => deps.log.warn({ err: { message: error.message } }, 'sign-in throttle: release failed'),
    );

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

  function redisUnavailable(error: unknown): void {
    deps.log.warn(
      { err: { message: (error as Error).message } },
      'sign-in throttle: Redis unavailable, using Postgres',
    );
  }

  return {
    /**
     * Counts the attempt against the address and the network, or throws sign_in_throttled (429,
     * Retry-After: the refusing count's time left) when either is at its limit.
     */
    async reserve(subject: SignInSubject, at: Date): Promise<SignInReservation> {
      const { account, network } = keys(subject);
      let accountReply: [0 | 1, number];
      try {
        accountReply = await redis.signInReserve(account, config.SIGN_IN_FAILURES_PER_ACCOUNT, window);
      } catch (error) {
        redisUnavailable(error);
        await fallbackCheck(subject, at);
        return NOTHING_TO_GIVE_BACK;
      }
      if (accountReply[0] === 0) throw throttled(accountReply[1]);

      let networkReply: [0 | 1, number];
      try {
        networkReply = await redis.signInReserve(network, config.SIGN_IN_FAILURES_PER_IP, window);
      } catch (error) {
        // Redis went away between the two: the account's reservation may or may not be given
        // back; the Postgres count decides this attempt.
        await giveBack(account);
        redisUnavailable(error);
        await fallbackCheck(subject, at);
        return NOTHING_TO_GIVE_BACK;
      }
      if (networkReply[0] === 0) {
        await giveBack(account);
        throw throttled(networkReply[1]);
      }

      let settled = false;
      const once = async (work: () => Promise<unknown>) => {
        if (settled) return;
        settled = true;
        await work();
      };
      return {
        // A right password proves the address's owner: the account's count starts again (as
        // before counting was done up front), and the network's attempt was no guess.
        succeeded: () =>
          once(() =>
            Promise.all([
              deps.redis.del(account).catch((error: Error) => {
                deps.log.warn({ err: { message: error.message } }, 'sign-in throttle: clear failed');
              }),
              giveBack(network),
            ]),
          ),
        release: () => once(() => Promise.all([giveBack(account), giveBack(network)])),
      };
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
