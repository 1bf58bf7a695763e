import type { SecurityEvent } from '@otp/db';
import type { LightMyRequestResponse } from 'fastify';
import { type JsonResponse, TEST_ADMIN_KEY, type TestGateway } from './gateway.harness.ts';

export interface AdminCallOptions {
  /** The key to present (default TEST_ADMIN_KEY); null: no Authorization header. */
  key?: string | null;
  /** Sent as X-Operator-Name. */
  actor?: string;
  payload?: unknown;
  remoteAddress?: string;
  headers?: Record<string, string>;
}

/** One call to the test gateway's admin API (`gateway.admin`), answered as JSON when it has a body. */
export async function adminCall(
  gateway: TestGateway,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  options: AdminCallOptions = {},
): Promise<JsonResponse & { text: string }> {
  const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
  const response: LightMyRequestResponse = await gateway.admin.inject({
    method,
    url,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(options.actor === undefined ? {} : { 'x-operator-name': options.actor }),
      ...options.headers,
    },
    ...(options.payload === undefined ? {} : { payload: options.payload as Record<string, unknown> }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  const contentType = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    contentType,
    text: response.body,
    body:
      /^application\/(problem\+)?json/.test(contentType) && response.body !== ''
        ? (JSON.parse(response.body) as Record<string, unknown>)
        : {},
  };
}

/** The audit rows of a type, oldest first (optionally only one account's). */
export async function auditRows(gateway: TestGateway, type: string, userId?: string): Promise<SecurityEvent[]> {
  let query = gateway.deps.db.selectFrom('security_events').selectAll().where('type', '=', type);
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  return query.orderBy('id').execute();
}
