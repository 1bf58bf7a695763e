import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The packs an application installs, installed as it would: `@otp/client` and
// `@otp/testcontainers` packed (by .ci/run, which names the folder in OTP_PACKS_DIR; made here
// otherwise), installed with npm into a scratch project outside the workspace, everything else
// from the registry, and the example of docs/using-it.md run there with vitest against the
// system in containers.
const root = fileURLToPath(new URL('../../../', import.meta.url));
let scratch: string;
let packs: string;

/**
 * This process's environment as a shell outside the workspace has it: what reaches the registry
 * (proxy and CA settings) and the container engine stays; what pnpm and vitest set for the
 * workspace (npm_*, VITEST*) goes, so npm and the scratch vitest see none of it.
 */
function outsideEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !/^(npm_|VITEST|TEST$|NODE_ENV$|NODE_OPTIONS$|PNPM_)/i.test(entry[0]),
    ),
  );
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: { ...outsideEnvironment(), ...options.env },
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: `${stdout}\n${stderr}` }),
    );
  });
}

async function pack(pkg: string, destination: string): Promise<void> {
  const packed = await run('pnpm', ['pack', '--pack-destination', destination], {
    cwd: join(root, pkg),
    timeoutMs: 180_000,
  });
  if (packed.code !== 0) throw new Error(`pnpm pack in ${pkg} failed:\n${packed.output}`);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'otp-scratch-'));
  packs = process.env.OTP_PACKS_DIR ?? join(scratch, 'packs');
  if (process.env.OTP_PACKS_DIR === undefined) {
    await pack('packages/client', packs);
    await pack('packages/testcontainers', packs);
  }
}, 400_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('the packs, installed in an application', () => {
  it('install outside the workspace and run the examples of docs/using-it.md and the README', {
    timeout: 1_200_000,
  }, async () => {
    const tarballs = (await readdir(packs)).filter((name) => /^otp-(client|testcontainers)-.*\.tgz$/.test(name));
    expect(tarballs.sort()).toEqual([
      expect.stringMatching(/^otp-client-/),
      expect.stringMatching(/^otp-testcontainers-/),
    ]);
    const app = join(scratch, 'app');
    await run('mkdir', ['-p', app], { cwd: scratch, timeoutMs: 5000 });
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));
    const installed = await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--save-dev',
        ...tarballs.map((name) => join(packs, name)),
        'vitest@5.1.1',
      ],
      { cwd: app, timeoutMs: 600_000 },
    );
    expect(installed.code, installed.output).toBe(0);
    for (const name of ['client', 'testcontainers']) {
      const manifest = JSON.parse(await readFile(join(app, 'node_modules', '@otp', name, 'package.json'), 'utf8'));
      expect(manifest.private).toBeUndefined();
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
    }

    // The examples as the docs show them: docs/using-it.md's, and the first of this package's README.
    const usingIt = await readFile(join(root, 'docs/using-it.md'), 'utf8');
    const readme = await readFile(join(root, 'packages/testcontainers/README.md'), 'utf8');
    const examples = {
      'using-it.test.ts': /Then a test signs a user in[\s\S]*?```ts\n([\s\S]*?)```/.exec(usingIt)?.[1],
      'readme.test.ts': /```ts\n([\s\S]*?)```/.exec(readme)?.[1],
    };
    for (const [file, example] of Object.entries(examples)) {
      expect(example, file).toContain("from '@otp/testcontainers'");
      await writeFile(join(app, file), example ?? '');
    }
    const tested = await run('npx', ['vitest', 'run', '--testTimeout=60000'], {
      cwd: app,
      // The machine's "inside a container" marker makes Testcontainers look for the host elsewhere.
      env: { OTP_SYSTEM_CHECKOUT: root, TESTCONTAINERS_HOST_OVERRIDE: 'localhost', CI: 'true' },
      timeoutMs: 1_000_000,
    });
    expect(tested.code, tested.output).toBe(0);
    expect(tested.output).toMatch(/Test Files\s+\S*2 passed/);
  });
});
