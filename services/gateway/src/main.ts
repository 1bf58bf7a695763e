// The gateway process: read config, create clients, start the relay, listen, stop gracefully.
import {
  createLogger,
  evictionMessage,
  exitOnConfigError,
  guardAgainstEviction,
  onShutdownSignal,
  readEnvironment,
} from '@otp/runtime';
import { buildApp } from './app.ts';
import { type GatewayConfig, parseGatewayConfig } from './config.ts';
import { closeGatewayDeps, createGatewayDeps } from './deps.ts';

let config: GatewayConfig;
try {
  config = parseGatewayConfig(readEnvironment());
} catch (error) {
  exitOnConfigError('gateway', error);
}

const log = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
// Creating the deps starts the outbox relay: rows committed before a crash are relayed now.
const deps = await createGatewayDeps(config, log);
guardAgainstEviction(deps.redis, log, (policy) => {
  log.fatal({ policy }, 'Redis may evict keys: refusing to run');
  process.stderr.write(`gateway: ${evictionMessage(policy)}\n`);
  process.exit(78);
});
const app = await buildApp(deps);

onShutdownSignal(
  async () => {
    // Stop accepting connections and let in-flight requests finish, then stop the relay (its
    // drain in progress completes) and close queues, Redis and the pool.
    await app.close();
    await closeGatewayDeps(deps);
  },
  { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS },
);

await app.listen({ host: config.HOST, port: config.PORT });
