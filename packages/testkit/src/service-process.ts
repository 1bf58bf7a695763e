import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root, where services are started from (as `pnpm dev` and the images do). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type ServiceName = 'gateway' | 'email-worker' | 'sms-worker' | 'webhook-worker' | 'dashboard';

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly process: ChildProcess;
  /** Every line the service printed so far (stdout and stderr). */
  logs(): string[];
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartServiceOptions {
  name: ServiceName;
  env: Record<string, string>;
  /** URL that answers 200 once the service is ready. */
  readyUrl: string;
  readyTimeoutMs?: number;
  /**
   * The service is expected to stop by itself. Otherwise a service that exits with an error code
   * once ready, without being told to stop, prints its last lines to the test's stderr: a crash in
   * the middle of a test then says why, instead of showing only as refused connections.
   */
  expectExit?: boolean;
}

const handedOut = new Set<number>();

/**
 * Ports are chosen below Linux's ephemeral range (`ip_local_port_range`, 32768-60999 by default;
 * macOS's starts at 49152). The kernel takes the source port of every outgoing connection from that
 * range, so a port handed out from it (as `listen(0)` did) could be taken by any process's
 * connection before the service binds it: a gateway once failed to start on EADDRINUSE that way.
 */
const PORTS_FROM = 20_000;
const PORTS_TO = 32_767;
const SLICES = 8;

/**
 * The ports a process draws from. Test files run side by side, each in a process of its own with
 * its own `handedOut`, so two of them could draw the same port and both find it free before either
 * service binds it. Each vitest worker (`VITEST_POOL_ID`: 1 to maxWorkers, never the same for two
 * files running at once) therefore draws from its own slice of the range; outside vitest, the
 * whole range.
 */
export function portRange(poolId: string | undefined = process.env.VITEST_POOL_ID): { from: number; to: number } {
  const pool = Number(poolId);
  if (!Number.isInteger(pool) || pool < 1) return { from: PORTS_FROM, to: PORTS_TO };
  const size = Math.floor((PORTS_TO - PORTS_FROM + 1) / SLICES);
  const from = PORTS_FROM + ((pool - 1) % SLICES) * size;
  return { from, to: from + size - 1 };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on the loopback interface, from this process's range (portRange). */
export async function freePort(): Promise<number> {
  const { from, to } = portRange();
  // The port is free only until someone binds it: a port this process handed out already, and
  // whose service may not have bound it yet, is never handed out again (a gateway now takes two).
  for (;;) {
    const port = from + randomInt(to - from + 1);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * Starts a service as a real process (`node services/<name>/src/main.ts`), with only the given
 * environment plus PATH, and waits until its readiness URL answers 200.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const lines: string[] = [];
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', `services/${options.name}/src/main.ts`],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let pending = '';
  const collect = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit');
  let stopping = false;

  const service: ServiceProcess = {
    name: options.name,
    process: child,
    logs: () => (pending === '' ? [...lines] : [...lines, pending]),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      stopping = true;
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };

  // A bound, not a speed check: end-to-end suites start several processes at once, beside other
  // test files, on two cores (20 s was missed in CI once the suites grew).
  const deadline = Date.now() + (options.readyTimeoutMs ?? 45_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `${options.name} exited with ${child.exitCode} before it was ready:\n${service.logs().join('\n')}`,
      );
    }
    try {
      const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) {
        if (options.expectExit !== true) {
          child.once('exit', (code) => {
            if (stopping || code === null || code === 0) return;
            process.stderr.write(
              `${options.name} exited with ${code} while in use; its last lines:\n${service.logs().slice(-30).join('\n')}\n`,
            );
          });
        }
        return service;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop('SIGKILL');
  throw new Error(`${options.name} was not ready within the timeout:\n${service.logs().join('\n')}`);
}

/**
 * Starts a service that is expected to stop by itself (a bad configuration, a Redis that may
 * evict keys): its exit code and what it printed, whether it stopped before its readiness URL
 * answered or after.
 */
export async function startServiceExpectingExit(
  options: StartServiceOptions,
): Promise<{ code: number | null; logs: string }> {
  return startService({ ...options, expectExit: true }).then(
    async (service) => {
      const code = await new Promise<number | null>((resolve) => service.process.once('exit', resolve));
      return { code, logs: service.logs().join('\n') };
    },
    (error: Error) => ({ code: Number(/exited with (\d+)/.exec(error.message)?.[1]), logs: error.message }),
  );
}
