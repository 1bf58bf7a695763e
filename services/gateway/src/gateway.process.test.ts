import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import {
  createTestDatabase,
  freePort,
  startService,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// main.ts as a real process: every port it serves is bound before its readiness check answers,
// so a replica whose admin or metrics port is taken never reports ready (and takes traffic) only
// to exit a moment later.
let database: TestDatabase;
const jwtKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

function listening(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('gateway process', () => {
  it.each(['ADMIN_PORT', 'GATEWAY_OPS_PORT'] as const)(
    'stops before it is ready, naming %s, when that port is taken',
    async (variable) => {
      const [port, adminPort, opsPort] = await Promise.all([freePort(), freePort(), freePort()]);
      const takenPort = variable === 'ADMIN_PORT' ? adminPort : opsPort;
      const taken = await listening(takenPort);
      try {
        const start = startService({
          name: 'gateway',
          env: {
            DATABASE_URL: database.url,
            REDIS_URL: testRedisUrl(),
            QUEUE_PREFIX: uniqueQueuePrefix(),
            ENVELOPE_KEYS: testKeyRing('proc'),
            FACTOR_KEYS: testKeyRing('proc-factor'),
            CODE_HMAC_KEY: testSecret(),
            JWT_PRIVATE_KEY: jwtKey,
            SMS_ALLOWED_COUNTRIES: 'US',
            HOST: '127.0.0.1',
            PORT: String(port),
            ADMIN_PORT: String(adminPort),
            GATEWAY_OPS_PORT: String(opsPort),
          },
          readyUrl: `http://127.0.0.1:${port}/health/ready`,
        });
        const error = await start.then(
          () => undefined,
          (reason: Error) => reason,
        );
        expect(error?.message).toMatch(/^gateway exited with 1 before it was ready/);
        expect(error?.message).toContain(`${variable}: port ${takenPort} on 127.0.0.1 is in use`);
        // Nothing answers on its public port.
        await expect(fetch(`http://127.0.0.1:${port}/health/ready`)).rejects.toThrow();
      } finally {
        taken.close();
      }
    },
  );
});
