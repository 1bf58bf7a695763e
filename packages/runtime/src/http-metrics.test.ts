import { parseExposition } from '@otp/testkit';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { instrumentHttp, serveMetrics, UNMATCHED_ROUTE } from './http-metrics.ts';
import { createMetricsRegistry } from './metrics.ts';

describe('HTTP metrics for a Fastify app', () => {
  it('times answers by route pattern and status, unmatched URLs under one label, and serves them', async () => {
    const registry = createMetricsRegistry('http-test');
    const app = Fastify();
    instrumentHttp(app, registry);
    serveMetrics(app, registry);
    app.get('/things/:id', async (request, reply) =>
      (request.params as { id: string }).id === 'missing' ? reply.code(404).send({}) : { ok: true },
    );
    await app.ready();

    await app.inject({ method: 'GET', url: '/things/1' });
    await app.inject({ method: 'GET', url: '/things/2' });
    await app.inject({ method: 'GET', url: '/things/missing' });
    await app.inject({ method: 'GET', url: '/secret-path-42' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });

    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(parseExposition(response.body).get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    // The `_count` series of one label set, read from the text (labels in any order).
    const count = (route: string, status: number) =>
      response.body
        .split('\n')
        .filter((line) => line.startsWith('http_request_duration_seconds_count{'))
        .find((line) =>
          ['method="GET"', `route="${route}"`, `status_code="${status}"`, 'service="http-test"'].every((label) =>
            line.includes(label),
          ),
        )
        ?.split(' ')[1];
    expect(count('/things/:id', 200)).toBe('2');
    expect(count('/things/:id', 404)).toBe('1');
    expect(count(UNMATCHED_ROUTE, 404)).toBe('1');
    expect(response.body).not.toContain('secret-path-42');
    await app.close();
  });
});
