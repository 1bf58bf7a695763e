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
      // The rest of helmet's default policy, which the gateway reads off helmet once at start.
      expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(response.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(response.headers['origin-agent-cluster'], url).toBe('?1');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['x-dns-prefetch-control'], url).toBe('off');
      expect(response.headers['x-download-options'], url).toBe('noopen');
      expect(response.headers['x-permitted-cross-domain-policies'], url).toBe('none');
      expect(response.headers['x-xss-protection'], url).toBe('0');
      expect(response.headers['x-powered-by'], url).toBeUndefined();
    }
  });

  it('sends them on answers its own code writes: a validation error, a refusal', async () => {
    const invalid = await gateway.app.inject({
      method: 'POST',
      url: '/v1/otp/challenges',
      payload: { channel: 'fax' },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.headers['content-security-policy']).toContain("default-src 'self'");
    expect(invalid.headers['strict-transport-security']).toBeDefined();
    const unauthenticated = await gateway.app.inject({ method: 'GET', url: '/v1/me' });
    expect(unauthenticated.statusCode).toBe(401);
    expect(unauthenticated.headers['x-content-type-options']).toBe('nosniff');
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
