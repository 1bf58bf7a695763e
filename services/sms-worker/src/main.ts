// The SMS worker's entry. Tracing starts before the rest of the worker is imported, so the
// instrumentations patch pg, ioredis and pino as they load (docs/operating.md, traces).
import { REPOSITORY_ENV_FILE, readEnvironment } from '@otp/runtime/env';
import { startTracing } from '@otp/runtime/tracing';

const tracing = await startTracing('sms-worker', readEnvironment(['.env', REPOSITORY_ENV_FILE]));
const { runSmsWorker } = await import('./sms-worker.process.ts');
await runSmsWorker(tracing);
