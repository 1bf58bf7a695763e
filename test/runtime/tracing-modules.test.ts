import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/tracing-modules.child.ts', import.meta.url));

/** Loads every service the way its main.ts does, in a child process, with `env`. */
async function loadedModules(env: Record<string, string>): Promise<{ enabled: boolean; modules: string[] }> {
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: __, ...inherited } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', CHILD], {
    env: { ...inherited, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

// "Loaded only when tracing is on": a service started without the OTEL_* variables imports no
// SDK and no instrumentation; the API package alone (a few no-op functions) is imported.
describe('OpenTelemetry modules', () => {
  it('none but the API are loaded when no OTLP endpoint is set', async () => {
    expect(await loadedModules({})).toEqual({ enabled: false, modules: ['@opentelemetry/api'] });
  });

  it('none but the API are loaded when OTEL_SDK_DISABLED is true', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' };
    expect(await loadedModules(env)).toEqual({ enabled: false, modules: ['@opentelemetry/api'] });
  });

  it('the SDK and the instrumentations are loaded when an endpoint is set', async () => {
    const { enabled, modules } = await loadedModules({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(enabled).toBe(true);
    expect(modules).toEqual(
      expect.arrayContaining([
        '@fastify/otel',
        '@opentelemetry/instrumentation-ioredis',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-pino',
        '@opentelemetry/sdk-node',
        'bullmq-otel',
        'import-in-the-middle',
      ]),
    );
  });
});
