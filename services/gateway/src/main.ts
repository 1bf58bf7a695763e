// The gateway's entry. Tracing starts before the rest of the gateway is imported, so the
// instrumentations patch pg, ioredis, pino and Fastify as they load (docs/operating.md, traces).
import { readEnvironment } from '@otp/runtime/env';
import { startTracing } from '@otp/runtime/tracing';

const tracing = await startTracing('gateway', readEnvironment());
const { runGateway } = await import('./gateway.process.ts');
await runGateway(tracing);
