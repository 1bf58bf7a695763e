import { once } from 'node:events';
import { createConnection } from 'node:net';
import { testRedisUrl } from '@otp/testkit';
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
    const commands: string[][] = [];
    // Keys named between MULTI and EXEC, per client connection: one transaction is one slot too.
    const transactions = new Map<string, Set<string>>();
    const transactionKeys: string[][] = [];
    let markerSeen: () => void = () => {};
    const seenMarker = new Promise<void>((resolve) => {
      markerSeen = resolve;
    });
    const monitor = await monitorRedis(testRedisUrl(), (args, source) => {
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
      if (args.includes(marker)) markerSeen();
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
      monitor.stop();
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

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };

/**
 * Calls `onCommand` with each command Redis runs (its arguments, and the connection or `lua` that
 * ran it), as MONITOR reports them, until stopped. A socket of its own, not ioredis's `monitor()`:
 * ioredis counts itself in monitoring mode only a tick after MONITOR's +OK, so a line that arrives
 * in the same packet, when another client runs a command at that moment, is taken for a reply
 * nobody asked for and throws "Command queue state error" (it failed a CI run).
 */
async function monitorRedis(
  url: string,
  onCommand: (args: string[], source: string) => void,
): Promise<{ stop(): void }> {
  const { hostname, port, password } = new URL(url);
  const socket = createConnection({ host: hostname, port: Number(port || 6379) });
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let ok: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    ok = resolve;
    fail = reject;
  });
  socket.on('error', fail);
  let buffered = '';
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (line === '+OK') ok();
      else if (line.startsWith('-')) fail(new Error(`MONITOR refused: ${line.slice(1)}`));
      else {
        // +<time> [<db> <source>] "<argument>" "<argument>" ...
        const match = /^\+\S+ \[\d+ (\S+)\] (.*)$/.exec(line);
        if (match === null) continue;
        const args = [...(match[2] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((quoted) =>
          (quoted[1] as string).replace(/\\(x[0-9a-f]{2}|.)/g, (_, sequence: string) =>
            sequence.length === 3
              ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16))
              : (ESCAPES[sequence] ?? sequence),
          ),
        );
        onCommand(args, match[1] as string);
      }
    }
  });
  if (password !== '') socket.write(`AUTH ${decodeURIComponent(password)}\r\n`);
  socket.write('MONITOR\r\n');
  await started;
  return { stop: () => socket.destroy() };
}
