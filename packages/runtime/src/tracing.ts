import { register } from 'node:module';
import type { Telemetry } from 'bullmq';

/**
 * OpenTelemetry traces of one service, started by the service's `main.ts` before it imports
 * anything else (see `startTracing`). The instrumentations (Fastify, pg, ioredis, pino) need no
 * handle; what the code passes on is BullMQ's `telemetry` option and the shutdown.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** BullMQ's `telemetry` option for every Queue and Worker; undefined when not tracing. */
  readonly queueTelemetry: Telemetry | undefined;
  /** Exports the spans ended so far and stops exporting (at shutdown). */
  shutdown(): Promise<void>;
}

export const disabledTracing: Tracing = {
  enabled: false,
  queueTelemetry: undefined,
  shutdown: async () => {},
};

/**
 * The modules the instrumentations patch through the ESM loader hook: CommonJS packages the
 * services import from ESM. Only these are wrapped (import-in-the-middle would wrap every module
 * otherwise). Fastify needs none: @fastify/otel subscribes to Fastify's diagnostics channel.
 */
const PATCHED_MODULES = ['pg', 'pg-pool', 'ioredis', 'pino'];

/**
 * On when an OTLP endpoint is set for traces (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED is `true` or OTEL_TRACES_EXPORTER
 * is `none`, as the OpenTelemetry specification defines those variables.
 */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  if (!set('OTEL_EXPORTER_OTLP_ENDPOINT') && !set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')) return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() !== 'none';
}

/**
 * Starts tracing when `env` asks for it, else returns `disabledTracing` having imported nothing
 * of OpenTelemetry: a service without the variables pays nothing. Call it first in `main.ts` and
 * import the rest of the service afterwards (dynamic `import()`): the instrumentations patch pg,
 * ioredis and pino as they are loaded, and Fastify instances as they are created, so only what is
 * loaded after this call is traced. The SDK reads the standard OTEL_* variables itself
 * (exporter, protocol, headers, sampler, resource); `service` is the default service.name,
 * OTEL_SERVICE_NAME wins over it.
 */
export async function startTracing(service: string, env: Record<string, string | undefined>): Promise<Tracing> {
  if (!tracingRequested(env)) return disabledTracing;
  // Before the SDK module: the hook sees only modules imported after it is registered.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: PATCHED_MODULES } });
  const { startSdk } = await import('./tracing.sdk.ts');
  return startSdk(service);
}
