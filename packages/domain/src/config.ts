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

export function parseConfig<S extends TSchema>(schema: S, env: Record<string, string | undefined>): Static<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const value = Value.Convert(schema, Value.Default(schema, present));
  const problems = [...Value.Errors(schema, value)]
    .filter((error) => error.keyword !== 'additionalProperties' && error.keyword !== 'boolean')
    .map((error) => {
      const missing =
        error.keyword === 'required'
          ? (error.params as { requiredProperties?: string[] }).requiredProperties
          : undefined;
      if (missing !== undefined) return `${missing.join(', ')}: required but not set`;
      return `${error.instancePath.replace(/^\//, '')}: ${error.message}`;
    });
  if (problems.length > 0) throw new ConfigError(problems);
  return Value.Clean(schema, value) as Static<S>;
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
export const PostgresUrl = Type.String({
  pattern: '^postgres(ql)?://',
  description: 'Postgres connection string, e.g. postgres://user:pass@host:5432/db',
});
export const RedisUrl = Type.String({
  pattern: '^rediss?://',
  description: 'Redis connection string, e.g. redis://host:6379',
});
export const OtlpEndpoint = Type.Optional(
  Type.String({
    pattern: '^https?://[^/?#]+(/[^?#]*)?$',
    description:
      'OpenTelemetry collector (OTLP/HTTP) to send traces to, e.g. http://otel-collector:4318 (spans go to <it>/v1/traces); unset: no tracing',
  }),
);
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
  Type.String({
    minLength: 1,
    description: `${description}. Format: id:base64(32 bytes)[,id:base64...]; the first key encrypts`,
  });
