import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { type Channel, type KeyRing, parseKeyRing } from '@otp/domain';
import { createLogger, type Logger, type RedisClient } from '@otp/runtime';
import { type TestDatabase, testKeyRing, testRedisUrl, testSecret, uniqueQueuePrefix } from '@otp/testkit';
import type { Queue } from 'bullmq';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { FactorVerifier } from '../accounts/auth/factor.port.ts';
import type { JwtAlgorithm } from '../accounts/auth/signing-key.ts';
import { buildAdminApp } from '../admin/admin.app.ts';
import { buildApp } from '../app.ts';
import { type GatewayConfig, parseGatewayConfig } from '../config.ts';
import { hashKey } from '../http/bearer-keys.ts';
import { buildOpsApp } from '../ops/ops.app.ts';
import {
  closeGatewayDeps,
  closeRedis,
  createDeliveryQueues,
  createGatewayDeps,
  type RunningGatewayDeps,
} from '../wiring.ts';

export interface TestGateway {
  app: FastifyInstance;
  /** The admin API on the same deps (keys: ADMIN_API_KEYS, by default `TEST_ADMIN_KEY` as test-operator). */
  admin: FastifyInstance;
  /** The ops listener on the same deps: `/metrics`. */
  ops: FastifyInstance;
  deps: RunningGatewayDeps;
  config: GatewayConfig;
  /** The envelope key ring the gateway seals with (to open jobs as a worker would). */
  ring: KeyRing;
  /** Queues on the test Redis with the gateway's prefix, to read jobs back. */
  inspect: Record<Channel, Queue>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Extra environment variables (small limits...). */
  env?: Record<string, string>;
  log?: Logger;
  /** Wait for the gateway's Redis connection before the first request (default true). */
  waitForRedis?: boolean;
  /** Second factors for the MFA step (the test factor hook until real factors exist). */
  factors?: FactorVerifier;
  /** Listen on this port of 127.0.0.1 too, for clients that speak HTTP (`close()` closes it). */
  listenPort?: number;
}

export function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A fresh PKCS#8 PEM private key for JWT_ALGORITHM `alg` (Ed25519, EC P-256, RSA 2048). */
export function signingKeyPem(alg: JwtAlgorithm): string {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The SPKI PEM public half of a private key PEM: what JWT_PREVIOUS_PUBLIC_KEY takes after a rotation. */
export function publicKeyPem(privatePem: string): string {
  return createPublicKey(privatePem).export({ format: 'pem', type: 'spki' }).toString();
}

/** The admin API key every test gateway accepts unless its env sets ADMIN_API_KEYS (named test-operator). */
export const TEST_ADMIN_KEY = 'otpa_test-key-for-the-gateway-harness-only';
export const TEST_ADMIN_OPERATOR = 'test-operator';

/** Everything the gateway needs, with fresh secrets, a queue prefix of its own and no timer relay. */
export function testEnvironment(database: TestDatabase, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: uniqueQueuePrefix(),
    CODE_HMAC_KEY: testSecret(),
    ENVELOPE_KEYS: testKeyRing(),
    FACTOR_KEYS: testKeyRing('factor'),
    JWT_PRIVATE_KEY: ed25519Pem(),
    LOG_LEVEL: 'silent',
    // Tests drain the outbox themselves (and requests nudge it); the timer stays out of the way.
    RELAY_INTERVAL_MS: '3600000',
    // Tests send to numbers of many countries; the ones about where SMS may go set their own list.
    SMS_ALLOWED_COUNTRIES: '*',
    ADMIN_API_KEYS: `${TEST_ADMIN_OPERATOR}:${hashKey(TEST_ADMIN_KEY)}`,
    ...env,
  };
}

async function waitUntilReady(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await Promise.race([
    once(redis, 'ready'),
    new Promise((_, reject) => setTimeout(() => reject(new Error('redis not ready')), timeoutMs).unref()),
  ]);
}

export async function startTestGateway(database: TestDatabase, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const config = parseGatewayConfig(testEnvironment(database, options.env));
  const log = options.log ?? createLogger({ service: 'gateway-test', level: config.LOG_LEVEL });
  const deps = await createGatewayDeps(config, log);
  if (options.factors !== undefined) deps.factors = options.factors;
  if (options.waitForRedis !== false) await waitUntilReady(deps.redis);
  const app = await buildApp(deps);
  const admin = await buildAdminApp(deps);
  const ops = await buildOpsApp(deps);
  if (options.listenPort !== undefined) await app.listen({ host: '127.0.0.1', port: options.listenPort });
  const inspectRedis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const inspect = createDeliveryQueues(inspectRedis, config.QUEUE_PREFIX, log);
  return {
    app,
    admin,
    ops,
    deps,
    config,
    ring: parseKeyRing(config.ENVELOPE_KEYS),
    inspect,
    async close() {
      await Promise.all([app.close(), admin.close(), ops.close()]);
      await closeGatewayDeps(deps);
      // Leave nothing of this test in the shared Redis.
      await Promise.all(Object.values(inspect).map((queue) => queue.obliterate({ force: true })));
      await Promise.all(Object.values(inspect).map((queue) => queue.close()));
      await closeRedis(inspectRedis);
    },
  };
}

export interface JsonResponse {
  status: number;
  headers: LightMyRequestResponse['headers'];
  contentType: string;
  body: Record<string, unknown>;
}

function toJson(response: LightMyRequestResponse): JsonResponse {
  return {
    status: response.statusCode,
    headers: response.headers,
    contentType: String(response.headers['content-type'] ?? ''),
    body: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>),
  };
}

export interface CallOptions {
  headers?: Record<string, string>;
  remoteAddress?: string;
}

export function post(app: FastifyInstance, url: string, payload?: unknown, options: CallOptions = {}) {
  return send(app, 'POST', url, payload, options);
}

export function patch(app: FastifyInstance, url: string, payload?: unknown, options: CallOptions = {}) {
  return send(app, 'PATCH', url, payload, options);
}

async function send(
  app: FastifyInstance,
  method: 'POST' | 'PATCH',
  url: string,
  payload: unknown,
  options: CallOptions,
) {
  const response = await app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    headers: options.headers ?? {},
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  return toJson(response);
}

/** Requests with a Bearer token. */
export function bearer(accessToken: string): CallOptions {
  return { headers: { authorization: `Bearer ${accessToken}` } };
}

export async function get(app: FastifyInstance, url: string, options: CallOptions = {}) {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: options.headers ?? {},
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  return toJson(response);
}

/** A fresh address per call, so tests never trip each other's per-recipient limit. */
let counter = 0;
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}.${Date.now().toString(36)}.${counter}@Example.COM`;
}
