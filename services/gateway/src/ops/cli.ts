import { userInfo } from 'node:os';

// What the operator's commands (ops.cli.ts) share: their output, their usage errors and the name
// of who made a change.

export const out = (text: string) => process.stdout.write(`${text}\n`);

/** Writes `message` and the command's usage to stderr; resolves to the exit code of a usage error. */
export function usageError(usage: string, message: string): number {
  process.stderr.write(`${message}\n${usage}`);
  return 64; // EX_USAGE
}

/** The OS user, or a placeholder where the process has no name (a container's numeric user). */
function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Who made a change, as `--by` names them (default: the OS user): free text shown on the
 * dashboard and in logs, so one printable line of 1 to 100 characters; undefined when it is not.
 */
export function changedBy(given: string | undefined): string | undefined {
  const by = (given ?? osUser()).trim();
  return by === '' || by.length > 100 || /\p{Cc}/u.test(by) ? undefined : by;
}
