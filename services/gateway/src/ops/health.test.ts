import { startRedisServer } from '@otp/testkit';
import { describe, expect, it, vi } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { get, post, startTestGateway, uniqueEmail } from '../testing/gateway.harness.ts';

describe('health', () => {
  const { gateway, database } = useTestGateway();

  it('is live and ready when Postgres and Redis answer', async () => {
    expect(await get(gateway.app, '/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(gateway.app, '/health/ready')).toMatchObject({
      status: 200,
      body: { status: 'ok', checks: { postgres: 'up', redis: 'up' } },
    });
  });

  it('is not ready (503) when Postgres is unreachable, and requests get 503 service_unavailable', async () => {
    const broken = await startTestGateway(database, {
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' },
    });
    try {
      expect((await get(broken.app, '/health/live')).status).toBe(200);
      expect(await get(broken.app, '/health/ready')).toMatchObject({
        status: 503,
        body: { status: 'unavailable', checks: { postgres: 'down', redis: 'up' } },
      });
      const request = await post(broken.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() });
      expect(request.status).toBe(503);
      expect(request.contentType).toMatch(/^application\/problem\+json/);
      expect(request.body.code).toBe('service_unavailable');
      expect(Number(request.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await broken.close();
    }
  });

  it('is not ready (503 draining) once told to stop, yet serves requests, then asks to close connections', async () => {
    const stopping = await startTestGateway(database);
    try {
      stopping.deps.drain.begin();
      const ready = await get(stopping.app, '/health/ready');
      expect(ready).toMatchObject({
        status: 503,
        body: { status: 'draining', checks: { postgres: 'up', redis: 'up' } },
      });
      // Draining keeps connections alive: proxies go on reusing theirs rather than opening new ones.
      expect(ready.headers.connection).toBe('keep-alive');
      expect((await get(stopping.app, '/health/live')).status).toBe(200);
      expect((await post(stopping.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status).toBe(
        202,
      );
      stopping.deps.drain.close();
      const request = await post(stopping.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() });
      expect(request.status).toBe(202);
      expect(request.headers.connection).toBe('close');
    } finally {
      await stopping.close();
    }
  });

  it('stays ready (200 degraded) while the real Redis is stopped, still takes codes into the outbox, and says so in a metric', async () => {
    const redis = await startRedisServer();
    const degraded = await startTestGateway(database, { env: { REDIS_URL: redis.url } });
    const dependencyUp = async () =>
      (await degraded.deps.metrics.registry.getSingleMetricAsString('otp_gateway_dependency_up'))
        .split('\n')
        .filter((line) => line.startsWith('otp_gateway_dependency_up{'))
        .map((line) => line.replace(/,?service="gateway"/, ''))
        .sort();
    try {
      expect(await get(degraded.app, '/health/ready')).toMatchObject({
        status: 200,
        body: { status: 'ok', checks: { postgres: 'up', redis: 'up' } },
      });
      await redis.stop();
      expect(await get(degraded.app, '/health/ready')).toMatchObject({
        status: 200,
        body: { status: 'degraded', checks: { postgres: 'up', redis: 'down' } },
      });
      expect(await dependencyUp()).toEqual([
        'otp_gateway_dependency_up{dependency="postgres"} 1',
        'otp_gateway_dependency_up{dependency="redis"} 0',
      ]);
      // What a ready replica can still do: the code goes to the Postgres outbox, relayed later.
      const asked = await post(degraded.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('outage') });
      expect(asked.status).toBe(202);
      await redis.start();
      await vi.waitFor(async () => expect((await get(degraded.app, '/health/ready')).body.status).toBe('ok'), {
        timeout: 15_000,
      });
      expect(await dependencyUp()).toEqual([
        'otp_gateway_dependency_up{dependency="postgres"} 1',
        'otp_gateway_dependency_up{dependency="redis"} 1',
      ]);
    } finally {
      await degraded.close();
      await redis.stop();
    }
  });
});
