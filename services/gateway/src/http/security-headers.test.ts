import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';

describe('security headers and CORS', () => {
  const allowed = 'https://app.example.com';
  const { gateway } = useTestGateway({ env: { CORS_ORIGINS: `${allowed}, https://admin.example.com` } });

  it('sends helmet headers on every answer, errors included', async () => {
    for (const url of ['/health/live', '/v1/nowhere']) {
      const response = await gateway.app.inject({ method: 'GET', url });
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['strict-transport-security'], url).toBeDefined();
      expect(response.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
    }
  });

  it('allows the configured origins and no other', async () => {
    const preflight = (origin: string) =>
      gateway.app.inject({
        method: 'OPTIONS',
        url: '/v1/auth/login',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(allowed);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(allowed);
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');

    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await gateway.app.inject({ method: 'GET', url: '/health/live', headers: { origin: allowed } });
    expect(simple.headers['access-control-allow-origin']).toBe(allowed);
    expect(simple.headers['access-control-expose-headers']).toContain('retry-after');
  });
});
