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
  Type.String({
    minLength: 1,
    description: `${description}. Format: id:base64(32 bytes)[,id:base64...]; the first key encrypts`,
  });
