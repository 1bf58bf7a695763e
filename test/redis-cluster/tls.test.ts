import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { redisTarget } from '@otp/domain';
import { createLogger, createProducerRedis, createWorkerRedis, pingRedis, type RedisClient } from '@otp/runtime';
import {
  createTestCertificates,
  extractCode,
  freePort,
  issueTestCertificate,
  type RedisServer,
  startRedisServer,
  type TestCertificates,
  tlsHandshakeError,
  trustedTestCertificates,
  trustingTls,
  uniqueQueuePrefix,
} from '@otp/testkit';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { jobRoundTrip } from '../e2e/job-round-trip.ts';
import { api, type RunningSystem, startSystem } from '../e2e/system.ts';
import { type RedisClusterUnderTest, startRedisCluster } from './cluster.ts';

// REDIS_CLUSTER_NODES with REDIS_TLS=true and REDIS_PASSWORD against a cluster whose nodes listen
// for TLS only (`--port 0`, the cluster bus over TLS too) and require the password. The server
// certificates come from a throwaway CA that the test workers trust through NODE_EXTRA_CA_CERTS
// (trusted-test-ca.global-setup.ts) and the spawned services are given the same way, as an
// operator trusts a private CA: the certificate check stays on, and a CA nobody trusts is refused.
const PASSWORD = 'cluster-secret';
const log = createLogger({ service: 'redis-cluster-tls-test', level: 'silent' });
const certificates = trustedTestCertificates();
const prefix = uniqueQueuePrefix();
const clients: RedisClient[] = [];
let cluster: RedisClusterUnderTest;
let system: RunningSystem;

const config = () => ({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PASSWORD: PASSWORD, QUEUE_PREFIX: prefix });
const client = (tls: boolean, name: string, profile = createProducerRedis) => {
  const made = profile(redisTarget({ ...config(), REDIS_TLS: tls }), log, name);
  clients.push(made);
  return made;
};

beforeAll(async () => {
  cluster = await startRedisCluster({ tls: certificates, password: PASSWORD });
  system = await startSystem(
    {},
    {
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_TLS: 'true',
      REDIS_PASSWORD: PASSWORD,
      QUEUE_PREFIX: prefix,
      NODE_EXTRA_CA_CERTS: certificates.ca,
    },
  );
});

afterAll(async () => {
  try {
    for (const made of clients) made.disconnect();
    expect(await system?.stop()).toEqual([0, 0, 0]);
  } finally {
    await cluster?.stop();
  }
});

describe('a Redis Cluster that speaks only TLS and requires a password', () => {
  it('serves the system: a requested code is delivered by the email worker, and every service reads ready', async () => {
    const to = `cluster-tls-${Date.now()}@example.com`;
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
    expect(requested.status).toBe(202);
    expect(extractCode((await system.smtp.waitForMail(to, { timeoutMs: 20_000 })).text)).toMatch(/^\d{6}$/);
    // Readiness pings every master: each service's own cluster client reached all three.
    const gateway = await fetch(`${system.baseUrl}/health/ready`);
    expect(await gateway.json()).toMatchObject({ status: 'ok', checks: { redis: 'up' } });
    for (const url of Object.values(system.opsUrls)) {
      expect((await fetch(`${url}/health/ready`)).status, url).toBe(200);
    }
  });

  it("is reached by the services' clients with REDIS_TLS: a BullMQ job, and keys on every master", async () => {
    const producer = client(true, 'tls-producer') as Cluster;
    const consumer = client(true, 'tls-worker', createWorkerRedis);
    if (producer.status !== 'ready') await once(producer, 'ready');
    expect(await pingRedis(producer)).toBe(true);

    const trip = await jobRoundTrip({ producer, consumer }, { prefix, queue: 'tls', jobId: 'tls.1' });
    expect(trip.result).toEqual({ doubled: 42 });
    // One key per master (none with the queues' hash tag): each is routed over its own TLS connection.
    const masters = producer.nodes('master');
    expect(masters).toHaveLength(3);
    const owners = await Promise.all(
      masters.map(async (node) =>
        (await node.cluster('SLOTS')).filter(([, , master]) => master?.[1] === node.options.port),
      ),
    );
    for (const [index, ranges] of owners.entries()) {
      const key = Array.from({ length: 1000 }, (_, n) => `tls-probe-${n}`).find((candidate) =>
        ranges.some(([from, to]) => calculateSlot(candidate) >= from && calculateSlot(candidate) <= to),
      ) as string;
      await producer.set(key, String(index));
      expect(await masters[index]?.get(key)).toBe(String(index));
      await producer.del(key);
    }
  });

  it('is not reached with the same settings and REDIS_TLS=false', async () => {
    const plain = client(false, 'no-tls') as Cluster;
    // Every seed node is tried and refuses a plaintext client: no slots, never ready.
    const [error] = (await once(plain, 'node error')) as [Error];
    expect(error.message).toMatch(/Connection is closed|ECONNRESET|socket/i);
    expect(plain.status).not.toBe('ready');
    expect(await pingRedis(plain)).toBe(false);
    await expect(plain.get('any')).rejects.toThrow();
  });
});

/**
 * A cluster of one node holding every slot, speaking TLS only with these certificates, reached as
 * `host` to set it up; stopped, and the certificates' directory removed, when the test finishes
 * (also when it fails or times out: a `finally` would wait on the hung step).
 */
async function oneNodeCluster(certs: TestCertificates, host: string, extraArgs: string[] = []): Promise<RedisServer> {
  let server: RedisServer | undefined;
  onTestFinished(async () => {
    await server?.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });
  server = await startRedisServer(
    [
      ...['--cluster-enabled', 'yes', '--tls-cluster', 'yes', '--cluster-port', String(await freePort())],
      // Alone, a node knows no address of its own to announce in CLUSTER SLOTS.
      ...['--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(certs.dir, 'nodes.conf')],
      ...['--maxmemory-policy', 'noeviction', ...extraArgs],
    ],
    { tls: certs },
  );
  const direct = new Redis({ host, port: server.port, ...trustingTls(certs) });
  try {
    await direct.cluster('ADDSLOTSRANGE', 0, 16383);
    await vi.waitFor(async () => expect(await direct.cluster('INFO')).toContain('cluster_state:ok'), {
      timeout: 10_000,
      interval: 100,
    });
  } finally {
    direct.disconnect();
  }
  return server;
}

describe('TLS certificate verification', () => {
  it('refuses a cluster whose certificate comes from a CA the process does not trust', async () => {
    // A one-node cluster holding every slot, its certificate signed by a CA nobody trusts.
    const untrusted = await createTestCertificates('otp-untrusted');
    const server = await oneNodeCluster(untrusted, '127.0.0.1');
    const nodes = [{ host: '127.0.0.1', port: server.port }];
    const trusting = trustingTls(untrusted);
    // The cluster works for a client told to trust that CA...
    const trustingClient = new Cluster(nodes, { redisOptions: trusting });
    try {
      await trustingClient.set(`${prefix}:trusted`, '1');
      expect(await trustingClient.get(`${prefix}:trusted`)).toBe('1');
    } finally {
      trustingClient.disconnect();
    }
    // ...and not for the services' client, which checks certificates against the CAs the process
    // trusts (the system's and NODE_EXTRA_CA_CERTS): the handshake fails, no slots are known.
    const refusing = createProducerRedis(
      redisTarget({ REDIS_CLUSTER_NODES: `127.0.0.1:${server.port}`, REDIS_TLS: true, QUEUE_PREFIX: prefix }),
      log,
      'untrusted-ca',
    );
    clients.push(refusing);
    const [error] = (await once(refusing, 'error')) as [Error];
    expect(error.message).toContain('Failed to refresh slots cache');
    expect(refusing.status).not.toBe('ready');
    expect(await pingRedis(refusing)).toBe(false);
    // Why, in Node's words (ioredis keeps the handshake's error to itself on a cluster): the
    // same defaults as the client's `tls: {}` refuse the chain.
    expect(await tlsHandshakeError('127.0.0.1', server.port)).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });

  it('reaches nodes by the host names they announce, when their certificates name no address', async () => {
    // As managed clusters with TLS do: each node announces a host name (Redis's
    // cluster-preferred-endpoint-type hostname) and its certificate names that host only.
    const named = await issueTestCertificate(certificates, 'DNS:localhost');
    const { port } = await oneNodeCluster(named, 'localhost', [
      ...['--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'],
    ]);
    // The services' client keeps the names it is given and the one the node announces: the check passes
    // against that name, where the address it resolves to would fail it.
    const reaching = createProducerRedis(
      redisTarget({ REDIS_CLUSTER_NODES: `localhost:${port}`, REDIS_TLS: true, QUEUE_PREFIX: prefix }),
      log,
      'host-names',
    );
    clients.push(reaching);
    if (reaching.status !== 'ready') await once(reaching, 'ready');
    await reaching.set(`${prefix}:named`, 'by name');
    expect(await reaching.get(`${prefix}:named`)).toBe('by name');
    expect(await pingRedis(reaching)).toBe(true);
    expect((reaching as Cluster).nodes('master').map((node) => node.options.host)).toEqual(['localhost']);
    // By its address, the node's certificate is refused.
    expect(await tlsHandshakeError('127.0.0.1', port)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
