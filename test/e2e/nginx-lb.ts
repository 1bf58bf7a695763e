import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@otp/testkit';

/** Debian's nginx (`apt-get install nginx`); the tests run it as a plain child process. */
export const NGINX_BINARY = '/usr/sbin/nginx';
const TEMPLATE = new URL('../../deploy/nginx/nginx.conf.template', import.meta.url);

export interface NginxLoadBalancer {
  url: string;
  logs(): string[];
  /** Graceful stop (SIGQUIT), as the image's entrypoint does. */
  stop(): Promise<void>;
}

/**
 * Renders deploy/nginx/nginx.conf.template the way deploy/nginx/entrypoint.sh does: every
 * `${NAME}` replaced, the GATEWAY_ADDRESS line repeated once per address.
 */
export function renderNginxConfig(template: string, values: Record<string, string>, gateways: string[]): string {
  // Built from parts: a literal with a placeholder in it reads like a mistyped template string.
  const gatewayLine = ['$', '{GATEWAY_ADDRESS}'].join('');
  const substitute = (line: string) =>
    line.replaceAll(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  return template
    .split('\n')
    .flatMap((line) =>
      line.includes(gatewayLine)
        ? gateways.map((address) => substitute(line.replaceAll(gatewayLine, address)))
        : [substitute(line)],
    )
    .join('\n');
}

/**
 * Starts nginx from the shipped template in front of the given `host:port` gateways, with its
 * own prefix, pid file and temporary files under a fresh directory (no root needed), and waits
 * until its own /health answers.
 */
export async function startNginx(gateways: string[]): Promise<NginxLoadBalancer> {
  if (!existsSync(NGINX_BINARY)) {
    throw new Error(`${NGINX_BINARY} is missing: install Debian's nginx (apt-get install -y nginx)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'otp-nginx-'));
  const port = await freePort();
  const config = renderNginxConfig(
    await readFile(TEMPLATE, 'utf8'),
    // A file: nginx cannot open /dev/stdout when it is a socket, as Node's pipes are.
    { LISTEN_PORT: `127.0.0.1:${port}`, RUNTIME_DIR: dir, ACCESS_LOG: join(dir, 'access.log') },
    gateways,
  );
  const configPath = join(dir, 'nginx.conf');
  await writeFile(configPath, config);
  const lines: string[] = [];
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', configPath, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return { url, logs: () => [...lines], stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`nginx did not start:\n${lines.join('\n')}`);
}
