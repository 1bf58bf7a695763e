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

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on the loopback interface, from the range above. */
export async function freePort(): Promise<number> {
  // The port is free only until someone binds it: a port this process handed out already, and
  // whose service may not have bound it yet, is never handed out again (a gateway now takes two).
  for (;;) {
    const port = PORTS_FROM + randomInt(PORTS_TO - PORTS_FROM + 1);
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

  const service: ServiceProcess = {
    name: options.name,
    process: child,
    logs: () => (pending === '' ? [...lines] : [...lines, pending]),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
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
      if (response.status === 200) return service;
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
  return startService(options).then(
    async (service) => {
      const code = await new Promise<number | null>((resolve) => service.process.once('exit', resolve));
      return { code, logs: service.logs().join('\n') };
    },
    (error: Error) => ({ code: Number(/exited with (\d+)/.exec(error.message)?.[1]), logs: error.message }),
  );
}
