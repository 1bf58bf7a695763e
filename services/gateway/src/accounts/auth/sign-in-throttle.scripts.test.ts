import { testRedisUrl } from '@otp/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { rateLimitNamespace } from '../../http/rate-limit.plugin.ts';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { uniqueEmail } from '../../testing/gateway.harness.ts';
import { RELEASE_ATTEMPT, RESERVE_ATTEMPT } from './sign-in-throttle.scripts.ts';

const SCRIPTS = { RESERVE_ATTEMPT, RELEASE_ATTEMPT };

// Redis Cluster runs a command only when all its keys share one hash slot. The account key and
// the network key of an attempt are in different slots, so no command may name both.
describe('the sign-in throttle touches one key per Redis command', () => {
  it.each(Object.entries(SCRIPTS))('%s declares one key and reads no other', (_name, script) => {
    expect(script.numberOfKeys).toBe(1);
    const keysRead = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((match) => match[1]);
    expect(keysRead.length).toBeGreaterThan(0);
    expect(new Set(keysRead)).toEqual(new Set(['1']));
  });

  const { gateway } = useTestGateway({ env: { SIGN_IN_FAILURES_PER_ACCOUNT: '2', SIGN_IN_FAILURES_PER_IP: '100' } });

  it('sends no command that names two of its keys (watched with MONITOR)', async () => {
    const { email } = await registerUser(gateway, 'monitored');
    const namespace = `${rateLimitNamespace(gateway.config.QUEUE_PREFIX)}sign-in:`;
    const marker = `${namespace}end-of-test`;
    const client = new Redis(testRedisUrl());
    const monitor = await client.monitor();
    const commands: string[][] = [];
    // Keys named between MULTI and EXEC, per client connection: one transaction is one slot too.
    const transactions = new Map<string, Set<string>>();
    const transactionKeys: string[][] = [];
    const seenMarker = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const name = args[0]?.toLowerCase();
        const ours = args.filter((arg) => arg.startsWith(namespace));
        if (name === 'multi') transactions.set(source, new Set());
        if (name === 'exec' || name === 'discard') {
          const named = transactions.get(source);
          if (named !== undefined && named.size > 0) transactionKeys.push([...named]);
          transactions.delete(source);
        }
        if (ours.length === 0) return;
        for (const key of ours) transactions.get(source)?.add(key);
        commands.push(args);
        if (args.includes(marker)) resolve();
      });
    });
    try {
      // Reserve and keep (wrong password), reserve then clear and give back (right password),
      // and refuse at the account's limit of 2.
      expect((await login(gateway, email, 'wrong', { remoteAddress: '10.43.0.1' })).status).toBe(401);
      expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.43.0.1' })).status).toBe(200);
      expect((await login(gateway, uniqueEmail('m'), 'wrong', { remoteAddress: '10.43.0.2' })).status).toBe(401);
      for (let i = 0; i < 2; i++) await login(gateway, email, 'wrong', { remoteAddress: '10.43.0.3' });
      expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.43.0.3' })).status).toBe(429);
      await gateway.deps.redis.get(marker);
      await seenMarker;
    } finally {
      await monitor.disconnect();
      client.disconnect();
    }
    const throttleCommands = commands.filter((args) => !args.includes(marker));
    // evalsha/eval from the gateway, and the GET/INCR/EXPIRE/DEL... run inside the scripts.
    expect(throttleCommands.some((args) => /^eval/i.test(args[0] ?? ''))).toBe(true);
    expect(throttleCommands.some((args) => /^incr$/i.test(args[0] ?? ''))).toBe(true);
    for (const args of throttleCommands) {
      const keysNamed = new Set(args.filter((arg) => arg.startsWith(namespace)));
      expect(keysNamed.size, args.join(' ')).toBe(1);
      if (/^eval/i.test(args[0] ?? '')) expect(args[2], args.join(' ')).toBe('1');
    }
    for (const keys of transactionKeys) expect(keys, 'one MULTI').toHaveLength(1);
  });
});
