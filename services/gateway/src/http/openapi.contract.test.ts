import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '@otp/domain';
import { REPO_ROOT } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';

// The OpenAPI documents are a contract: the committed copies (docs/openapi.json, docs/openapi.admin.json)
// are what the gateway serves, byte for byte; `pnpm openapi:update` rewrites them after a change.
// Clients are generated from them, so every operation has a unique id and the schemas a client
// handles by name are components.

interface Operation {
  operationId?: string;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
}

const update = process.env.UPDATE_OPENAPI === '1';

function checkCommitted(file: string, served: string): void {
  const text = `${JSON.stringify(JSON.parse(served), null, 2)}\n`;
  const path = `${REPO_ROOT}${file}`;
  if (update) writeFileSync(path, text);
  expect(readFileSync(path, 'utf8'), `${file} is stale: run pnpm openapi:update`).toBe(text);
}

function operations(document: Document): Array<[string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(
      ([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation],
    ),
  );
}

function checkContract(document: Document): void {
  const ids = operations(document).map(([route, operation]) => {
    expect(operation.operationId, route).toMatch(/^[a-z][A-Za-z]+$/);
    return operation.operationId;
  });
  expect(new Set(ids).size).toBe(ids.length);
  // Every error answer is the one Problem component, its code the enum of the error table.
  for (const [route, operation] of operations(document)) {
    for (const [status, response] of Object.entries(operation.responses)) {
      const problem = response.content?.['application/problem+json'];
      if (problem !== undefined)
        expect(problem.schema, `${route} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
    }
  }
  expect(document.components.schemas.Problem?.properties?.code?.enum).toEqual(Object.keys(ERROR_CODES));
}

describe('the public OpenAPI document', () => {
  const { gateway } = useTestGateway();

  it('is the committed docs/openapi.json, with operation ids and named schemas', async () => {
    const served = (await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).body;
    checkCommitted('docs/openapi.json', served);
    const document = JSON.parse(served) as Document;
    checkContract(document);
    expect(document.servers).toBeUndefined();
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        'Problem',
        'Challenge',
        'ChallengeCreated',
        'SignedIn',
        'MfaRequired',
        'Verified',
        'User',
        'Me',
      ]),
    );
    const verify = document.paths['/v1/otp/challenges/{id}/verify']?.post;
    expect(verify?.operationId).toBe('verifyChallenge');
    expect(verify?.requestBody?.content['application/json']).toBeDefined();
    const created = document.paths['/v1/otp/challenges']?.post?.responses['202']?.content?.['application/json'];
    expect(created?.schema).toEqual({ $ref: '#/components/schemas/ChallengeCreated' });
  });
});

describe('the public OpenAPI document with PUBLIC_BASE_URL', () => {
  const { gateway } = useTestGateway({ env: { PUBLIC_BASE_URL: 'https://auth.example.com' } });

  it('names it as its server', async () => {
    const document = JSON.parse((await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).body) as Document;
    expect(document.servers).toEqual([{ url: 'https://auth.example.com' }]);
  });
});

describe('the admin OpenAPI document', () => {
  const { gateway } = useTestGateway();

  it('is the committed docs/openapi.admin.json, with operation ids and named schemas', async () => {
    const served = (await gateway.admin.inject({ method: 'GET', url: '/admin/openapi.json' })).body;
    checkCommitted('docs/openapi.admin.json', served);
    const document = JSON.parse(served) as Document;
    checkContract(document);
    expect(document.paths['/admin/v1/users/{id}']?.get?.operationId).toBe('getUser');
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['AdminUserDetail', 'Problem']));
  });
});
