import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiUnavailable, createAdminApiClient, operatorHeader } from './admin-api.client.ts';

// The client's edges: what it sends (the real admin API is in dashboard.lookup.test.ts) and a
// server that takes the connection but never answers, which only a test server can be.
const KEY = `otpa_${'k'.repeat(43)}`;
let seen: IncomingHttpHeaders | undefined;
const server = createServer((request, response) => {
  seen = request.headers;
  if (request.url?.startsWith('/admin/v1/hang')) return; // never answers
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
let url: string;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

describe('the admin API client', () => {
  it('sends the key as a bearer token and the operator by name', async () => {
    const answer = await createAdminApiClient({ url: `${url}/`, key: KEY, timeoutMs: 2000 }).call('GET', '/users', {
      query: { email: 'a@example.org', phone: undefined },
      operator: 'ops-ada',
    });
    expect(answer).toEqual({ status: 200, body: { ok: true } });
    expect(seen).toMatchObject({ authorization: `Bearer ${KEY}`, 'x-operator-name': 'ops-ada' });
  });

  it('gives up after its timeout, saying so without the key', async () => {
    const client = createAdminApiClient({ url, key: KEY, timeoutMs: 200 });
    const failure = await client.call('GET', '/hang', { operator: null }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AdminApiUnavailable);
    expect((failure as Error).message).toContain('no answer within 200 ms');
    expect((failure as Error).message).not.toContain(KEY);
  });

  it('sends a name outside printable ASCII percent-encoded, at most 100 characters', () => {
    expect(operatorHeader('José')).toBe('Jos%C3%A9');
    expect(operatorHeader('x'.repeat(150))).toHaveLength(100);
  });
});
