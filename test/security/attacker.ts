// The attacker's side of the attack suite: plain HTTP against the gateways' real processes, from
// as many client addresses as it likes (the gateways trust X-Forwarded-For from loopback here, as
// they would from a balancer, so each request may claim another address: a botnet).

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

let address = 0;

/** A new client address for every call: per-IP limits never get in the attacker's way. */
export function nextAddress(): string {
  address += 1;
  return `198.18.${Math.floor(address / 250) % 250}.${(address % 250) + 1}`;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      'x-forwarded-for': nextAddress(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), ms };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** How many answers had each `status code` (`400 invalid_code`, `429 recipient_locked`, ...). */
export function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = `${answer.status}${typeof answer.body.code === 'string' ? ` ${answer.body.code}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
