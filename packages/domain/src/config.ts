import { readFileSync } from 'node:fs';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

/**
 * Parses environment variables against a TypeBox object schema: converts strings to the declared
 * types, applies defaults, and on any problem throws one error listing every bad or missing
 * variable by name (never its value, which may be a secret).
 */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `check`: problems of variables together (e.g. `redisConfigProblems`), reported beside the schema's. */
export function parseConfig<S extends TSchema>(
  schema: S,
  env: Record<string, string | undefined>,
  check?: (value: Record<string, unknown>) => string[],
): Static<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const fileProblems = readSecretFiles(schema, present);
  const value = Value.Convert(schema, Value.Default(schema, present));
  const problems = [
    ...fileProblems,
    ...[...Value.Errors(schema, value)]
      .filter((error) => error.keyword !== 'additionalProperties' && error.keyword !== 'boolean')
      .map((error) => {
        const missing =
          error.keyword === 'required'
            ? (error.params as { requiredProperties?: string[] }).requiredProperties
            : undefined;
        if (missing !== undefined) return `${missing.join(', ')}: required but not set`;
        return `${error.instancePath.replace(/^\//, '')}: ${error.message}`;
      }),
    ...(check?.(value as Record<string, unknown>) ?? []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return Value.Clean(schema, value) as Static<S>;
}

// Secrets from files, the Docker and Kubernetes secrets convention: a variable marked `Secret`
// may instead be given as NAME_FILE, the path of a file holding its value (one trailing newline,
// as editors and `echo` leave it, is dropped). `withSecretFiles` declares the NAME_FILE variables
// beside their secrets, so the generated docs and .env.example list them.

const SECRET = 'x-secret';

/** Marks a variable as a secret: it may also be given as NAME_FILE. */
export function Secret<T extends TSchema>(schema: T): T {
  // Every own property, the non-enumerable ones too: TypeBox marks an optional one that way.
  return Object.defineProperties(
    {},
    { ...Object.getOwnPropertyDescriptors(schema), [SECRET]: { value: true, enumerable: true } },
  ) as T;
}

function isSecret(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Record<string, unknown>)[SECRET] === true;
}

/** The properties of a config schema, each secret followed by its NAME_FILE variable. */
export function withSecretFiles<P extends Record<string, TSchema>>(
  properties: P,
): P & Record<`${string}_FILE`, TSchema> {
  const out: Record<string, TSchema> = {};
  for (const [name, schema] of Object.entries(properties)) {
    out[name] = schema;
    if (!isSecret(schema)) continue;
    out[`${name}_FILE`] = Type.Optional(
      Type.String({
        minLength: 1,
        description: `Path of a file holding ${name} (Docker and Kubernetes secrets), instead of ${name}; never both`,
      }),
    );
  }
  return out as P & Record<`${string}_FILE`, TSchema>;
}

/** Puts each secret's file content in `env` (in place); returns the problems, naming NAME_FILE, never a value. */
function readSecretFiles(schema: TSchema, env: Record<string, string | undefined>): string[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const problems: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    const path = env[`${name}_FILE`];
    if (!isSecret(property) || path === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name}_FILE: ${name} is set too; set only one of them`);
      continue;
    }
    try {
      env[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return problems;
}

/**
 * development (the default) lets a service fall back to what suits a laptop: the dev outbox
 * (codes written to files), a localhost issuer or WebOTP domain. production refuses each of them
 * at start, naming the variable, so a deployment never runs on one by accident.
 */
export const OtpEnv = Type.Enum(['development', 'production'], {
  default: 'development',
  description:
    'development: the dev defaults apply (the dev outbox without a provider, a localhost issuer or WebOTP domain); ' +
    'production: each service refuses to start on one of them, naming the variable (docs/production.md)',
});

const LOCAL_HOSTS = /^(localhost|[^.]+\.localhost|127(\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)$/i;

/** Whether a URL, or a host with an optional port, names this machine (localhost, 127.0.0.0/8, ::1). */
export function isLocalHost(value: string): boolean {
  let host = value.replace(/:\d+$/, '');
  if (value.includes('://')) {
    try {
      host = new URL(value).hostname;
    } catch {
      return false;
    }
  }
  return LOCAL_HOSTS.test(host);
}

/**
 * In production, a ConfigError naming each variable that holds a development default; in
 * development, nothing. `checks` are [variable, whether it is a development default, what to do].
 */
export function refuseDevelopmentDefaults(
  env: 'development' | 'production',
  checks: ReadonlyArray<readonly [variable: string, isDevelopmentDefault: boolean, remedy: string]>,
): void {
  if (env !== 'production') return;
  const problems = checks
    .filter(([, isDefault]) => isDefault)
    .map(([variable, , remedy]) => `${variable}: ${remedy} (OTP_ENV=production)`);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Checks one parsed variable further (e.g. a key ring) and names it in the error. */
export function checkVariable<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConfigError([`${name}: ${(error as Error).message}`]);
  }
}

// Shared pieces of every service's schema.
export const LogLevel = Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  default: 'info',
  description: 'pino log level',
});
export const Port = (port: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: port, description });
export const PostgresUrl = Secret(
  Type.String({
    pattern: '^postgres(ql)?://',
    description: 'Postgres connection string, e.g. postgres://user:pass@host:5432/db',
  }),
);
/**
 * How the services reach Postgres. A transaction-mode pooler hands each transaction to whichever
 * server connection is free, so nothing may rely on a session outliving its transaction.
 */
export const DatabasePooler = Type.Enum(['none', 'transaction'], {
  default: 'none',
  description:
    'none: DATABASE_URL is Postgres itself or a session-mode pooler (named prepared statements, timeouts as ' +
    'connection settings); transaction: a transaction-mode pooler (PgBouncer pool_mode=transaction, RDS Proxy, ' +
    'Supavisor): unnamed statements, timeouts set inside each transaction (docs/scaling-postgres.md)',
});

const HostPortList = '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$';

/**
 * Where Redis is, for every service that uses it (docs/scaling-redis.md): one server (REDIS_URL),
 * a Redis Cluster (REDIS_CLUSTER_NODES) or a Sentinel-managed master (REDIS_SENTINELS). Which
 * one is required is checked by `redisTarget`, since the schema cannot say "one of".
 */
export const redisConfigFields = {
  REDIS_URL: Secret(
    Type.Optional(
      Type.String({
        pattern: '^rediss?://',
        description:
          'Redis connection string, e.g. redis://host:6379 (rediss:// for TLS, credentials in the URL); required ' +
          'unless REDIS_CLUSTER_NODES or REDIS_SENTINELS is set, and then ignored',
      }),
    ),
  ),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({
      pattern: HostPortList,
      description:
        'Redis Cluster seed nodes, host:port[,host:port...] (any masters or replicas; the rest are discovered); ' +
        'set: a cluster client is used and REDIS_URL is ignored. QUEUE_PREFIX must then be a {hash tag}',
    }),
  ),
  REDIS_SENTINELS: Type.Optional(
    Type.String({
      pattern: HostPortList,
      description:
        'Redis Sentinels, host:port[,host:port...]; set: the master they name REDIS_SENTINEL_NAME is used and ' +
        'REDIS_URL is ignored. Never together with REDIS_CLUSTER_NODES',
    }),
  ),
  REDIS_SENTINEL_NAME: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'The master group name the Sentinels monitor (sentinel.conf), e.g. mymaster; required with REDIS_SENTINELS',
    }),
  ),
  REDIS_USERNAME: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'ACL user of the cluster nodes or the Sentinel-managed servers (with REDIS_CLUSTER_NODES or REDIS_SENTINELS)',
    }),
  ),
  REDIS_PASSWORD: Secret(
    Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Password of the cluster nodes or the Sentinel-managed servers (with REDIS_CLUSTER_NODES or REDIS_SENTINELS; ' +
          'the Sentinels themselves take REDIS_SENTINEL_PASSWORD)',
      }),
    ),
  ),
  REDIS_SENTINEL_PASSWORD: Secret(
    Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Password of the Sentinels themselves (their sentinel.conf's requirepass); only with REDIS_SENTINELS",
      }),
    ),
  ),
  REDIS_TLS: Type.Boolean({
    default: false,
    description:
      'true: TLS to the cluster nodes, or to the Sentinels and the servers they name, checked against the system ' +
      'CAs (with REDIS_CLUSTER_NODES or REDIS_SENTINELS; REDIS_URL says rediss:// instead)',
  }),
};

export interface RedisHostPort {
  host: string;
  port: number;
}

/** What the services connect to, from `redisConfigFields`: one server, a cluster or a Sentinel-managed master. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisHostPort[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisHostPort[];
      name: string;
      /** The Sentinels' own password (REDIS_SENTINEL_PASSWORD); `password` is the servers'. */
      sentinelPassword?: string;
      username?: string;
      password?: string;
      tls: boolean;
    };

/** The Redis variables as a parsed configuration holds them (`redisConfigFields` and QUEUE_PREFIX). */
export interface RedisConfig {
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_USERNAME?: string;
  REDIS_PASSWORD?: string;
  REDIS_TLS: boolean;
  QUEUE_PREFIX: string;
}

/**
 * A key's (or prefix's) hash tag as Redis Cluster reads it: the text between the first `{` and the
 * first `}` after it, when not empty; otherwise the whole key is hashed.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function hostPorts(list: string): RedisHostPort[] {
  return list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
}

/**
 * What is wrong with the Redis variables together, each problem naming its variables (never a
 * value): the checks the schema cannot express. Precedence: REDIS_CLUSTER_NODES or
 * REDIS_SENTINELS (both is an error), else REDIS_URL. Takes the value before it is known to match
 * the schema, so parseConfig reports these beside the schema's own problems.
 */
export function redisConfigProblems(config: Partial<RedisConfig>): string[] {
  const problems: string[] = [];
  const cluster = config.REDIS_CLUSTER_NODES;
  const sentinels = config.REDIS_SENTINELS;
  if (cluster !== undefined && sentinels !== undefined) {
    problems.push(
      'REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (a cluster or a Sentinel-managed master)',
    );
  }
  if (sentinels !== undefined && config.REDIS_SENTINEL_NAME === undefined) {
    problems.push('REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set');
  }
  if (sentinels === undefined && config.REDIS_SENTINEL_PASSWORD !== undefined) {
    // A password that would silently go nowhere is a mistake worth stopping for.
    problems.push('REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS');
  }
  if (
    cluster !== undefined &&
    typeof config.QUEUE_PREFIX === 'string' &&
    hashTagOf(config.QUEUE_PREFIX) === undefined
  ) {
    // BullMQ's scripts touch many keys of a queue at once; on a cluster they must share one slot.
    problems.push('QUEUE_PREFIX: must contain a {hash tag} with REDIS_CLUSTER_NODES, e.g. {otp}');
  }
  if (cluster === undefined && sentinels === undefined && config.REDIS_URL === undefined) {
    problems.push('REDIS_URL: required but not set (or set REDIS_CLUSTER_NODES or REDIS_SENTINELS)');
  }
  return problems;
}

/** The Redis target a parsed configuration names; a ConfigError when `redisConfigProblems` finds any. */
export function redisTarget(config: RedisConfig): RedisTarget {
  const problems = redisConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const auth = {
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
    tls: config.REDIS_TLS,
  };
  if (config.REDIS_CLUSTER_NODES !== undefined) {
    return { kind: 'cluster', nodes: hostPorts(config.REDIS_CLUSTER_NODES), ...auth };
  }
  if (config.REDIS_SENTINELS !== undefined) {
    const name = config.REDIS_SENTINEL_NAME as string; // checked above
    const sentinelPassword =
      config.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: config.REDIS_SENTINEL_PASSWORD };
    return { kind: 'sentinel', sentinels: hostPorts(config.REDIS_SENTINELS), name, ...sentinelPassword, ...auth };
  }
  return { kind: 'single', url: config.REDIS_URL as string };
}
const HttpUrl = '^https?://[^/?#]+(/[^?#]*)?$';

/**
 * The OpenTelemetry variables the services honour. The SDK reads them from the environment itself
 * (@otp/runtime's tracing.ts); they are declared here so that a bad value stops the start with
 * its name, and so that .env.example and docs/configuration.md list them. Tracing is on when
 * either endpoint is set and OTEL_SDK_DISABLED is not true.
 */
export const tracingConfigFields = {
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({
      pattern: HttpUrl,
      description:
        'OpenTelemetry collector to send traces to, e.g. http://otel-collector:4318 (OTLP/HTTP: spans go to <it>/v1/traces; ' +
        'grpc: http://otel-collector:4317); unset (and no OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): no tracing, and nothing ' +
        'of OpenTelemetry is loaded',
    }),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(
    Type.String({
      pattern: HttpUrl,
      description:
        'Where traces go, as a full URL (e.g. http://otel-collector:4318/v1/traces); wins over OTEL_EXPORTER_OTLP_ENDPOINT',
    }),
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Optional(
    Type.Enum(['http/protobuf', 'http/json', 'grpc'], {
      description: 'OTLP encoding and transport; unset: http/protobuf',
    }),
  ),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(
    Type.String({
      description:
        "Headers sent with each export, key=value pairs separated by commas (e.g. a vendor's API key: treat as a secret)",
    }),
  ),
  OTEL_SERVICE_NAME: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "service.name of the spans; unset: the service's own name (gateway, email-worker, sms-worker, webhook-worker)",
    }),
  ),
  OTEL_RESOURCE_ATTRIBUTES: Type.Optional(
    Type.String({
      description:
        'More resource attributes of the spans, key=value pairs separated by commas, e.g. ' +
        'deployment.environment.name=production,service.version=1.4.0',
    }),
  ),
  OTEL_TRACES_SAMPLER: Type.Optional(
    Type.Enum(
      [
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ],
      {
        description:
          "Which traces are kept; unset: parentbased_always_on (all, unless the caller's traceparent says not sampled)",
      },
    ),
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.String({
      pattern: '^(0(\\.\\d+)?|1(\\.0+)?)$',
      description: 'The ratio kept by the traceidratio samplers, 0 to 1 (e.g. 0.1); unset: 1',
    }),
  ),
  OTEL_SDK_DISABLED: Type.Optional(
    Type.Boolean({ description: 'true: no tracing even with an endpoint set (nothing of OpenTelemetry is loaded)' }),
  ),
};
/** Proxies whose X-Forwarded-For is believed for the client address (per-IP limits). */
export const TrustProxy = (service: string) =>
  Type.String({
    default: '',
    description:
      `Comma-separated IPs/CIDRs of the proxies in front of the ${service}; only then is X-Forwarded-For ` +
      'believed for the client address. Empty: trust no proxy',
  });

/** Fastify's `trustProxy` from a TRUST_PROXY value: false (the socket address is the client) or the named proxies. */
export function trustProxySetting(value: string): false | string[] {
  const proxies = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return proxies.length === 0 ? false : proxies;
}

export const QueuePrefix = Type.String({
  default: '{otp}',
  minLength: 1,
  description: 'BullMQ key prefix; a {hash tag} keeps each queue in one Redis Cluster slot',
});
export const KeyRingVariable = (description: string) =>
  Secret(
    Type.String({
      minLength: 1,
      description: `${description}. Format: id:base64(32 bytes)[,id:base64...]; the first key encrypts`,
    }),
  );
