import {
  ConfigError,
  DatabasePooler,
  LogLevel,
  OtpEnv,
  Port,
  parseConfig,
  QueuePrefix,
  redisConfigFields,
  redisConfigProblems,
  Secret,
  TrustProxy,
  withSecretFiles,
} from '@otp/domain';
import Type, { type Static } from 'typebox';

export const DashboardConfigSchema = Type.Object(
  withSecretFiles({
    DASHBOARD_HOST: Type.String({
      default: '0.0.0.0',
      minLength: 1,
      description: 'Interface the queue dashboard listens on',
    }),
    DASHBOARD_PORT: Port(3001, 'Port of the queue dashboard (UI at /, plus /health/live, /health/ready, /metrics)'),
    TRUST_PROXY: TrustProxy('dashboard'),
    ...redisConfigFields,
    QUEUE_PREFIX: QueuePrefix,
    DATABASE_URL: Secret(
      Type.Optional(
        Type.String({
          pattern: '^postgres(ql)?://',
          description:
            'Postgres, for the read-only kill switches page (/kill-switches, linked from the board); only SELECT on ' +
            'kill_switches is needed. Unset: no such page',
        }),
      ),
    ),
    DATABASE_POOLER: DatabasePooler,
    ADMIN_API_URL: Type.Optional(
      Type.String({
        pattern: '^https?://[^/?#]+/?$',
        description:
          "Base URL of the gateway's admin API listener (ADMIN_PORT, e.g. http://gateway:3002), for the Lookup page " +
          '(/lookup, linked from the board); set with ADMIN_API_KEY. Unset: no such page',
      }),
    ),
    ADMIN_API_KEY: Secret(
      Type.Optional(
        Type.String({
          minLength: 24,
          maxLength: 256,
          pattern: '^[\\x21-\\x7e]+$',
          description:
            "The admin API key the dashboard calls with (its hash is an entry of the gateway's ADMIN_API_KEYS); set with " +
            'ADMIN_API_URL. Never sent to the browser',
        }),
      ),
    ),
    ADMIN_API_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description: 'How long the Lookup page waits for an admin API answer before it says the API is unavailable',
    }),
    OTP_ENV: OtpEnv,
    LOG_LEVEL: LogLevel,
    DASHBOARD_USER: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[^:]+$',
        description: 'User name for HTTP basic sign-in to the dashboard (with DASHBOARD_PASSWORD)',
      }),
    ),
    DASHBOARD_PASSWORD: Secret(
      Type.Optional(
        Type.String({
          minLength: 12,
          maxLength: 1024,
          description: 'Password for HTTP basic sign-in to the dashboard, at least 12 characters (with DASHBOARD_USER)',
        }),
      ),
    ),
    DASHBOARD_TOKEN: Secret(
      Type.Optional(
        Type.String({
          minLength: 32,
          maxLength: 1024,
          pattern: '^[\\x21-\\x7e]+$',
          description: 'Bearer token accepted by the dashboard (Authorization: Bearer ...), at least 32 characters',
        }),
      ),
    ),
    DASHBOARD_SIGN_IN_MAX_FAILURES: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Refused sign-ins from one address, within DASHBOARD_SIGN_IN_WINDOW_SECONDS, before it gets 429',
    }),
    DASHBOARD_SIGN_IN_WINDOW_SECONDS: Type.Integer({
      minimum: 1,
      default: 900,
      description: 'Window of the refused sign-in count, from the first refusal; the block lasts until it ends',
    }),
    SHUTDOWN_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 20_000,
      description: 'On SIGTERM, how long open requests may take before the process exits anyway',
    }),
  }),
);

export type DashboardConfig = Static<typeof DashboardConfigSchema>;

/** How a request may prove it is an operator: basic credentials, a bearer token, or either. */
export interface DashboardAuth {
  basic?: { user: string; password: string };
  token?: string;
}

/** The gateway's admin API as the Lookup page calls it (server to server). */
export interface AdminApiSettings {
  /** Base URL of the admin listener, e.g. http://gateway:3002. */
  url: string;
  /** Sent as `Authorization: Bearer`; stays in this process. */
  key: string;
  timeoutMs: number;
}

/**
 * Parses and checks the dashboard's environment; throws a ConfigError naming each bad variable.
 * The dashboard never runs open: at least one way to sign in must be configured.
 */
export function parseDashboardConfig(env: Record<string, string | undefined>): DashboardConfig {
  const config = parseConfig(DashboardConfigSchema, env, redisConfigProblems);
  const problems: string[] = [];
  const hasUser = config.DASHBOARD_USER !== undefined;
  const hasPassword = config.DASHBOARD_PASSWORD !== undefined;
  if (hasUser && !hasPassword) problems.push('DASHBOARD_PASSWORD: required when DASHBOARD_USER is set');
  if (hasPassword && !hasUser) problems.push('DASHBOARD_USER: required when DASHBOARD_PASSWORD is set');
  if (!hasUser && !hasPassword && config.DASHBOARD_TOKEN === undefined) {
    problems.push(
      'DASHBOARD_USER, DASHBOARD_PASSWORD, DASHBOARD_TOKEN: set DASHBOARD_USER and DASHBOARD_PASSWORD (basic sign-in), ' +
        'DASHBOARD_TOKEN (bearer), or both; the dashboard never runs without authentication',
    );
  }
  // Half a setting would leave a Lookup page that can never work: refuse at start instead.
  if (config.ADMIN_API_URL !== undefined && config.ADMIN_API_KEY === undefined) {
    problems.push('ADMIN_API_KEY: required when ADMIN_API_URL is set');
  }
  if (config.ADMIN_API_KEY !== undefined && config.ADMIN_API_URL === undefined) {
    problems.push('ADMIN_API_URL: required when ADMIN_API_KEY is set');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Where the Lookup page's admin API is, or undefined when the page is off. */
export function adminApiSettings(config: DashboardConfig): AdminApiSettings | undefined {
  if (config.ADMIN_API_URL === undefined || config.ADMIN_API_KEY === undefined) return undefined;
  return { url: config.ADMIN_API_URL, key: config.ADMIN_API_KEY, timeoutMs: config.ADMIN_API_TIMEOUT_MS };
}

/** The sign-in methods a parsed configuration enables. */
export function dashboardAuth(config: DashboardConfig): DashboardAuth {
  return {
    ...(config.DASHBOARD_USER !== undefined && config.DASHBOARD_PASSWORD !== undefined
      ? { basic: { user: config.DASHBOARD_USER, password: config.DASHBOARD_PASSWORD } }
      : {}),
    ...(config.DASHBOARD_TOKEN !== undefined ? { token: config.DASHBOARD_TOKEN } : {}),
  };
}
