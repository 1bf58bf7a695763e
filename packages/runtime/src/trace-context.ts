import { context, propagation, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';

export { type Span, SpanStatusCode } from '@opentelemetry/api';

// The trace context of work that crosses a Postgres outbox: the request writes a row, the relay
// adds the job later, outside the request. BullMQ's telemetry links a job to the context active
// when it is added, so the row carries the request's W3C `traceparent` and the relay makes it
// active again around `queue.add`. Both are no-ops when tracing is off (no propagator is set).

/** The active span's W3C `traceparent`; undefined when there is none (not tracing). */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Runs `work` with `traceparent` as the active parent: what it traces becomes that span's child. */
export function withTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  if (traceparent === undefined) return work();
  return context.with(propagation.extract(ROOT_CONTEXT, { traceparent }), work);
}

/**
 * Runs `work` outside any trace. For background work that a request only sets going (the relay's
 * drain, nudged after a commit, relays the rows of many requests): it would otherwise join the
 * trace of whichever request nudged it, its SQL shown as that request's.
 */
export function outsideTrace<T>(work: () => T): T {
  return context.with(ROOT_CONTEXT, work);
}

/**
 * The span an instrumentation made active (a request's, BullMQ's job processing), for the code to
 * add what only it knows; undefined when not tracing.
 */
export function activeSpan(): Span | undefined {
  return trace.getActiveSpan();
}
