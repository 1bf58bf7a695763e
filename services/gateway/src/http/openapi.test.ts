import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';

describe('the API description', () => {
  const { gateway } = useTestGateway();

  it('serves /openapi.json listing every route with its schemas and problem responses', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = JSON.parse(response.body) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { tags?: string[]; responses: Record<string, { content?: object }>; security?: unknown }>
      >;
      components: { securitySchemes: Record<string, { scheme?: string }> };
    };
    expect(document.openapi).toMatch(/^3\./);
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /.well-known/jwks.json',
        'GET /.well-known/openid-configuration',
        'GET /health/live',
        'GET /health/ready',
        'GET /v1/me',
        'PATCH /v1/me',
        'DELETE /v1/me',
        'GET /v1/me/sessions',
        'DELETE /v1/me/sessions/{id}',
        'POST /v1/auth/logout-all',
        'GET /v1/otp/challenges/{id}',
        'POST /v1/otp/challenges',
        'POST /v1/otp/challenges/{id}/resend',
        'POST /v1/otp/challenges/{id}/verify',
        'POST /v1/auth/register',
        'POST /v1/auth/login',
        'POST /v1/auth/mfa',
        'POST /v1/auth/password/forgot',
        'POST /v1/auth/password/reset',
        'POST /v1/auth/refresh',
        'POST /v1/auth/logout',
        'POST /v1/me/email',
        'POST /v1/me/password',
        'POST /v1/me/phone',
        'POST /v1/me/totp',
        'POST /v1/me/totp/verify',
        'POST /v1/me/totp/validate',
        'DELETE /v1/me/totp',
        'POST /v1/me/hotp',
        'POST /v1/me/hotp/verify',
        'POST /v1/me/hotp/resync',
        'DELETE /v1/me/hotp',
        'POST /v1/me/recovery-codes',
      ].sort(),
    );
    for (const methods of Object.values(document.paths)) {
      for (const operation of Object.values(methods)) expect(operation.tags?.length).toBeGreaterThan(0);
    }
    const verify = document.paths['/v1/otp/challenges/{id}/verify']?.post;
    expect(verify?.responses['429']?.content).toHaveProperty(['application/problem+json']);
    expect(Object.keys(verify?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404', '410', '429']));
    expect(document.components.securitySchemes.bearerAuth?.scheme).toBe('bearer');
    expect(document.paths['/v1/me']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/v1/me/phone']?.post?.security).toEqual([{ bearerAuth: [] }]);
    const login = document.paths['/v1/auth/login']?.post;
    expect(Object.keys(login?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
    expect(Object.keys(document.paths['/v1/auth/register']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '400', '429']),
    );
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('Swagger UI');
  });
});
