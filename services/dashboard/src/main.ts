// The queue dashboard process. All behaviour lives in buildDashboard (dashboard.ts); this file wires it.
import { createDb } from '@otp/db';
import { redisTarget, trustProxySetting } from '@otp/domain';
import {
  createLogger,
  createProducerRedis,
  exitOnConfigError,
  guardAgainstEviction,
  onShutdownSignal,
  REPOSITORY_ENV_FILE,
  readEnvironment,
} from '@otp/runtime';
import { createAdminApiClient } from './admin-api.client.ts';
import { adminApiSettings, type DashboardConfig, dashboardAuth, parseDashboardConfig } from './config.ts';
import { buildDashboard } from './dashboard.ts';

const service = 'dashboard';

let config: DashboardConfig;
try {
  config = parseDashboardConfig(readEnvironment(['.env', REPOSITORY_ENV_FILE]));
} catch (error) {
  exitOnConfigError(service, error);
}

const log = createLogger({ service, level: config.LOG_LEVEL });
const redis = createProducerRedis(redisTarget(config), log, service);
// Retrying a job into a Redis that evicts keys would lose it again: refuse, like the other services.
guardAgainstEviction(redis, log, service);
// Optional: only the kill switches page reads Postgres, one small query per view.
const db =
  config.DATABASE_URL === undefined
    ? undefined
    : createDb({ url: config.DATABASE_URL, pooler: config.DATABASE_POOLER, poolSize: 2, applicationName: service });

// Optional: the Lookup page calls the gateway's admin API with its key, server to server.
const adminApi = adminApiSettings(config);

const app = await buildDashboard({
  redis,
  prefix: config.QUEUE_PREFIX,
  auth: dashboardAuth(config),
  trustProxy: trustProxySetting(config.TRUST_PROXY),
  signInThrottle: {
    maxFailures: config.DASHBOARD_SIGN_IN_MAX_FAILURES,
    windowSeconds: config.DASHBOARD_SIGN_IN_WINDOW_SECONDS,
  },
  log,
  ...(db === undefined ? {} : { db }),
  ...(adminApi === undefined ? {} : { adminApi: createAdminApiClient(adminApi) }),
});
await app.listen({ host: config.DASHBOARD_HOST, port: config.DASHBOARD_PORT });
log.info(
  {
    url: `http://${config.DASHBOARD_HOST}:${config.DASHBOARD_PORT}/`,
    queuePrefix: config.QUEUE_PREFIX,
    auth: Object.keys(dashboardAuth(config)),
    killSwitchesPage: db !== undefined,
    // Where the Lookup page's calls go (never the key).
    lookupPage: adminApi === undefined ? false : adminApi.url,
  },
  'dashboard started',
);

onShutdownSignal(
  async () => {
    await app.close();
    redis.disconnect();
    await db?.destroy();
  },
  { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS },
);
