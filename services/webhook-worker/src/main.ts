// The webhook worker's entry. Tracing starts before the rest of the worker is imported, so the
// instrumentations patch pg, ioredis and pino as they load (docs/operating.md, traces).
import { REPOSITORY_ENV_FILE, readEnvironment } from '@otp/runtime/env';
import { startTracing } from '@otp/runtime/tracing';

const tracing = await startTracing('webhook-worker', readEnvironment(['.env', REPOSITORY_ENV_FILE]));
const { runWebhookWorker } = await import('./webhook-worker.process.ts');
await runWebhookWorker(tracing);
