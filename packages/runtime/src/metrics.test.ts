import { parseExposition, sampleValue } from '@otp/testkit';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, exposeMetrics, withinTimeout } from './metrics.ts';

describe('metrics registry', () => {
  it('exposes the default process metrics and its own, each with the service label, in text format', async () => {
    const registry = createMetricsRegistry('metrics-test');
    const counter = new Counter({
      name: 'test_things_total',
      help: 'Things',
      labelNames: ['kind'],
      registers: [registry],
    });
    counter.inc({ kind: 'a' });
    counter.inc({ kind: 'a' });

    const { contentType, body } = await exposeMetrics(registry);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseExposition(body);
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('GAUGE');
    expect(sampleValue(families, 'test_things_total', { kind: 'a', service: 'metrics-test' })).toBe(2);
    for (const family of families.values()) {
      for (const sample of family.metrics) expect(sample.labels?.service).toBe('metrics-test');
    }
  });

  it('keeps registries apart, so two services in one process do not share series', async () => {
    const first = createMetricsRegistry('one');
    const second = createMetricsRegistry('two');
    new Counter({ name: 'only_in_first_total', help: 'x', registers: [first] }).inc();
    expect(parseExposition((await exposeMetrics(second)).body).has('only_in_first_total')).toBe(false);
  });

  it('gives up on a collector that hangs', async () => {
    await expect(withinTimeout(new Promise(() => {}), 20, 'queue counts')).rejects.toThrow(
      'queue counts took longer than 20 ms',
    );
    await expect(withinTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
  });
});
