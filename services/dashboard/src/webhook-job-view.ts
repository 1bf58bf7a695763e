import { HIDDEN } from './job-view.ts';

// What the dashboard shows of a `webhooks` job (one event for one endpoint, WebhookJobData in the
// domain package). The event's data is built to hold ids, reasons, counters and masked addresses
// only; as for the delivery jobs, the board is a second line of defence and shows only values of
// those shapes, whatever a buggy or foreign producer put in Redis.

const SHOWN_FIELDS = new Set(['v', 'eventId', 'endpointId', 'type', 'occurredAt']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A name, reason or code (`logout`, `factor_lock`, `twilio_21211`, `ep_AbC-123`): it starts with
// a letter, so a phone number never matches, and it holds no `@`.
const TOKEN = /^[a-z][a-z0-9_.:-]{0,63}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** A masked recipient (`a***@example.com`, `+*******2671`): some stars, at most four digits in a row. */
const MASKED = (value: string) => value.includes('*') && !/\d{5,}/.test(value) && value.length <= 320;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value of one of the shapes event data may hold. */
function isSafeValue(value: unknown): boolean {
  if (typeof value === 'boolean' || value === null) return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'string') {
    return UUID.test(value) || TOKEN.test(value) || ISO_TIME.test(value) || MASKED(value);
  }
  if (Array.isArray(value))
    return value.length <= 100 && value.every((item) => typeof item !== 'object' && isSafeValue(item));
  return false;
}

/** Webhook job data as the board shows it: its clear fields, and of the event's data the safe values. */
export function publicWebhookJobData(data: unknown): Record<string, unknown> | string {
  if (!isRecord(data)) return HIDDEN;
  const shown: Record<string, unknown> = {};
  const hidden: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key === 'data' && isRecord(value)) {
      const event: Record<string, unknown> = {};
      for (const [field, fieldValue] of Object.entries(value))
        event[field] = isSafeValue(fieldValue) ? fieldValue : HIDDEN;
      shown.data = event;
    } else if (
      SHOWN_FIELDS.has(key) &&
      (typeof value === 'number' || (typeof value === 'string' && isSafeValue(value)))
    ) {
      shown[key] = value;
    } else hidden.push(key);
  }
  if (hidden.length > 0) shown.hiddenFields = hidden;
  return shown;
}

/** A delivered webhook job returns the endpoint's HTTP status, `{ status }`; anything else is hidden. */
export function publicWebhookReturnValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isRecord(value) && Object.keys(value).length === 1 && Number.isInteger(value.status))
    return { status: value.status };
  return HIDDEN;
}
