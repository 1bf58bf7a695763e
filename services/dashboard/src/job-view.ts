import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { redactRecipients } from '@otp/delivery';
import type { Job, Queue } from 'bullmq';

// What the dashboard shows of a job. Delivery jobs are built to hold nothing secret in clear (the
// code and the address travel in an AES-256-GCM envelope, next to a masked address), so these
// are a second line of defence: the board shows only the fields it knows to be safe, whatever a
// buggy or foreign producer put in Redis.

/**
 * The clear fields of the delivery job contract (DeliveryJobData, versions 1 and 2; NoticeJobData,
 * version 3) that are safe to show as they are. Version 2 added a value of `template`
 * (`account-exists`), not a field; version 3 (a security notice) names its notification instead of
 * a challenge and says `kind: 'notice'`. What a notice shows (device, masked phone) is sealed.
 */
const SHOWN_FIELDS = new Set([
  'v',
  'kind',
  'notificationId',
  'challengeId',
  'sendNumber',
  'channel',
  'template',
  'purpose',
  'locale',
  'requestedAt',
  'expiresAt',
  'requestId',
]);

export const SEALED = '[sealed]';
export const HIDDEN = '[hidden]';

/** A masked recipient (`a***@example.com`, `+*******2671`): some stars, at most four digits in a row. */
function looksMasked(value: unknown): value is string {
  return typeof value === 'string' && value.includes('*') && !/\d{5,}/.test(value) && value.length <= 320;
}

/** Contract fields are short strings and numbers; a field of another shape is not what the contract says. */
function isPlain(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && value.length <= 128 && !value.includes('@'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Job data as the board shows it: known clear fields, the envelope as `[sealed]`, anything else named but hidden. */
export function publicJobData(data: unknown): Record<string, unknown> | string {
  if (!isRecord(data)) return HIDDEN;
  const shown: Record<string, unknown> = {};
  const hidden: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key === 'envelope') shown.envelope = SEALED;
    else if (key === 'toMasked') shown.toMasked = looksMasked(value) ? value : HIDDEN;
    else if (SHOWN_FIELDS.has(key) && isPlain(value)) shown[key] = value;
    else hidden.push(key);
  }
  if (hidden.length > 0) shown.hiddenFields = hidden;
  return shown;
}

// A provider's name, as a worker's chain names it (`twilio`, `smtp-fallback`, `hook`).
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * A delivery job's return value is `{ providerMessageId }` (plus `provider`, which one of a
 * worker's chain took it) or `{ skipped }`; anything else is hidden.
 */
export function publicReturnValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (!isRecord(value)) return HIDDEN;
  const { providerMessageId, provider, skipped } = value;
  const sent = typeof providerMessageId === 'string' || providerMessageId === null;
  if (Object.keys(value).length === 1 && sent) return { providerMessageId };
  if (Object.keys(value).length === 2 && sent && typeof provider === 'string' && PROVIDER_NAME.test(provider)) {
    return { providerMessageId, provider };
  }
  if (Object.keys(value).length === 1 && typeof skipped === 'string') return { skipped: redactRecipients(skipped) };
  return HIDDEN;
}

// The workers fail jobs with stable codes (the domain's DELIVERY_ERROR_CODES: `smtp_550`,
// `twilio_21211`, `invalid_payload`...), shown as they are; any other text (an error line of
// another producer, a stack frame) has addresses and long numbers blanked.
const STABLE_CODE = /^[a-z][a-z0-9_]{0,63}$/i;
const ERROR_LINE = /^(\w{1,64}): ([a-z][a-z0-9_]{0,63})$/i;
// A stack frame names code, never data: `    at fn (/app/node_modules/.pnpm/bullmq@6.7.0/...:12:3)`.
const STACK_FRAME = /^\s+at [\w$.<> ]*\(?(file:\/\/|node:|\/)[^\s()<>]*\)?$/;

function redactLine(line: string): string {
  if (STABLE_CODE.test(line) || ERROR_LINE.test(line) || STACK_FRAME.test(line)) return line;
  return redactRecipients(line);
}

/** Blanks addresses and codes in a failure text, keeping stable failure codes readable. */
export function redactFailureText(text: string): string {
  return text.split('\n').map(redactLine).join('\n');
}

function redactFailure<J extends Job>(job: J | undefined): J | undefined {
  if (job === undefined || job === null) return job;
  if (typeof job.failedReason === 'string') job.failedReason = redactFailureText(job.failedReason);
  if (Array.isArray(job.stacktrace)) {
    job.stacktrace = job.stacktrace.map((entry) => (typeof entry === 'string' ? redactFailureText(entry) : entry));
  }
  return job;
}

export interface QueueViewOptions {
  displayName: string;
  description: string;
  /** The queue's view of job data and return values; the delivery jobs' views above by default. */
  data?: (data: unknown) => unknown;
  returnValue?: (value: unknown) => unknown;
}

/**
 * bull-board's BullMQ adapter with the views above (or a queue's own): data and return values through its
 * formatters, failed reasons, stack traces and job logs redacted as they are read. The jobs in
 * Redis are never changed by this (retry and clean act on the job ids).
 */
export class DeliveryQueueAdapter extends BullMQAdapter {
  constructor(queue: Queue, options: QueueViewOptions) {
    const { data = publicJobData, returnValue = publicReturnValue, ...shown } = options;
    super(queue, { readOnlyMode: false, allowRetries: true, ...shown });
    this.setFormatter('data', data);
    this.setFormatter('returnValue', returnValue);
  }

  override async getJob(id: string): Promise<Job | undefined> {
    return redactFailure(await super.getJob(id));
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...args);
    return jobs.map((job) => redactFailure(job) as Job);
  }

  override async getJobLogs(id: string): Promise<string[]> {
    const logs = await super.getJobLogs(id);
    return logs.map(redactFailureText);
  }
}
