// Errors that mean "Postgres is not reachable right now" rather than "this request is wrong":
// they become 503 with Retry-After, so clients and load balancers retry instead of giving up.

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATE: 08xxx connection exceptions; 57P01-03 server shutting down / cannot connect now;
// 57014 statement timeout (a stalled database); 53300 too many connections.
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|57014|53300)$/;

// pg and pg-pool signal these with plain messages and no code.
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error/i;

function matches(error: { code?: unknown; message?: unknown }): boolean {
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? error.message : '';
  return NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_MESSAGE.test(message);
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  if (matches(error as { code?: unknown; message?: unknown })) return true;
  const nested = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(nested.errors) && nested.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(nested.cause, depth + 1);
}

/**
 * An insert into a history table found no partition for its time (SQLSTATE 23514, "no partition
 * of relation ... found for row"): the partitions ahead ran out (docs/scaling-postgres.md,
 * "Partitioned history"). Nothing was written; the next maintenance run, or a gateway's start,
 * makes them, so it is an outage to retry, not a bad request.
 */
export function isHistoryPartitionMissing(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '23514' && typeof message === 'string' && message.startsWith('no partition of relation');
}
