// The gateway process: read config, create clients, start the relay, listen, stop gracefully.
// main.ts imports it once tracing has started.
import { setTimeout } from 'node:timers/promises';
import { type Catalogue, catalogueFromConfig } from '@otp/messages';
import {
  createLogger,
  exitOnConfigError,
  guardAgainstEviction,
  onShutdownSignal,
  readEnvironment,
  type Tracing,
} from '@otp/runtime';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp } from './admin/admin.app.ts';
import { buildApp } from './app.ts';
import { type GatewayConfig, parseGatewayConfig } from './config.ts';
import { CONNECTION_CLOSE_WAIT_MS, stopAccepting } from './http/drain.ts';
import { buildOpsApp } from './ops/ops.app.ts';
import { closeGatewayDeps, createGatewayDeps } from './wiring.ts';

export async function runGateway(tracing: Tracing): Promise<void> {
  let config: GatewayConfig;
  let catalogue: Catalogue;
  try {
    config = parseGatewayConfig(readEnvironment());
    // Read with the settings, so a bad message file stops the start as a bad variable does.
    catalogue = catalogueFromConfig(config);
  } catch (error) {
    exitOnConfigError('gateway', error);
  }

  const log = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  // Creating the deps starts the outbox relay: rows committed before a crash are relayed now.
  const deps = await createGatewayDeps(config, log, catalogue, tracing);
  guardAgainstEviction(deps.redis, log, 'gateway');
  const app = await buildApp(deps);
  // The operators' admin API on a port of its own (docs/administration.md), never balanced publicly.
  const admin = await buildAdminApp(deps);
  // /metrics on the ops port, for Prometheus only (GATEWAY_OPS_PORT).
  const ops = await buildOpsApp(deps);

  onShutdownSignal(
    async (signal) => {
      // SIGTERM is how an orchestrator (Kubernetes, docker compose, systemd) stops a replica during
      // a rolling restart: leave the balanced pool without failing a request (the steps and their
      // reasons are in http/drain.ts). SIGINT is a person pressing Ctrl-C, with no balancer to wait
      // for: stop at once.
      if (signal === 'SIGTERM' && config.SHUTDOWN_DRAIN_MS > 0) {
        deps.drain.begin();
        log.info({ drainMs: config.SHUTDOWN_DRAIN_MS }, 'draining: not ready, still serving');
        await setTimeout(config.SHUTDOWN_DRAIN_MS);
        log.info('not accepting connections; serving those open until their clients close them');
        await stopAccepting(app.server, deps.drain, CONNECTION_CLOSE_WAIT_MS);
      }
      // Close what connections are left and let in-flight requests finish (the admin API's too: no
      // balancer stands before it, so it has no drain), then stop the relay (its drain in progress
      // completes) and close queues, Redis and the pool.
      await Promise.all([app.close(), admin.close(), ops.close()]);
      await closeGatewayDeps(deps);
    },
    // One deadline for the whole stop, drain included (the config keeps the drain shorter).
    { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS },
  );

  // The admin API and /metrics first, the public port last: a replica whose other port is taken
  // stops before its readiness check ever answers, instead of answering ready and then exiting.
  const listen = async (server: FastifyInstance, variable: string, host: string, port: number) => {
    try {
      await server.listen({ host, port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      log.fatal({ port }, `${variable}: port ${port} on ${host} is in use`);
      process.exit(1);
    }
  };
  await listen(admin, 'ADMIN_PORT', config.ADMIN_HOST ?? config.HOST, config.ADMIN_PORT);
  await listen(ops, 'GATEWAY_OPS_PORT', config.GATEWAY_OPS_HOST ?? config.HOST, config.GATEWAY_OPS_PORT);
  await listen(app, 'PORT', config.HOST, config.PORT);
}
