import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/**
 * A Prometheus registry of the service's own: the default process metrics (CPU, memory, event
 * loop lag, GC, handles) and, on every series, a `service` label. One registry per service
 * instance rather than prom-client's global one, so tests can run several in one process and
 * read each on its own.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsExposition {
  contentType: string;
  body: string;
}

/** The registry in Prometheus' text exposition format, with the content type to answer it with. */
export async function exposeMetrics(registry: Registry): Promise<MetricsExposition> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * Resolves `work`, or rejects after `ms`: a scrape-time collector reading Redis or Postgres must
 * not hold `/metrics` (and Prometheus' scrape) hostage while that dependency hangs.
 */
export async function withinTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
