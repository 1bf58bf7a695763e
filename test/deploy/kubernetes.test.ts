import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { DashboardConfigSchema } from '@otp/dashboard';
import { EmailWorkerConfigSchema, parseEmailWorkerConfig } from '@otp/email-worker';
import { GatewayConfigSchema, parseGatewayConfig } from '@otp/gateway';
import { parseSmsWorkerConfig, SmsWorkerConfigSchema } from '@otp/sms-worker';
import { testKeyRing, testSecret } from '@otp/testkit';
import { WebhookWorkerConfigSchema } from '@otp/webhook-worker';
import { validate as deploymentSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as hpaSchema } from 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler';
import { validate as jobSchema } from 'kubernetes-models/_schemas/IoK8sApiBatchV1Job';
import { validate as namespaceSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace';
import { validate as secretSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Secret';
import { validate as serviceSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as pdbSchema } from 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// Every manifest under deploy/kubernetes is checked against the Kubernetes API's own OpenAPI
// schemas (the validators kubernetes-models generates from them: types, required fields, enums),
// and then against this system: the env names the services really read, secrets that exist,
// selectors that match, probes on the health routes, and shutdown timings that fit.
const DIR = new URL('../../deploy/kubernetes/', import.meta.url);

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked by the schema, then read freely
  spec?: any;
  stringData?: Record<string, string>;
}

type Validatable = new (data: never) => { validate(): void };
const MODELS: Record<string, Validatable> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

type SchemaValidate = (data: unknown) => boolean;
const SCHEMAS: Record<string, SchemaValidate> = {
  'v1/Namespace': namespaceSchema as SchemaValidate,
  'v1/Secret': secretSchema as SchemaValidate,
  'v1/Service': serviceSchema as SchemaValidate,
  'apps/v1/Deployment': deploymentSchema as SchemaValidate,
  'batch/v1/Job': jobSchema as SchemaValidate,
  'autoscaling/v2/HorizontalPodAutoscaler': hpaSchema as SchemaValidate,
  'policy/v1/PodDisruptionBudget': pdbSchema as SchemaValidate,
};

/**
 * The fields of a manifest its kind's schema does not know (a misspelt `readinesProbe`, which
 * the API server would drop or refuse): the generated validators accept unknown fields, so the
 * object is handed to the kind's validator through proxies that note every field it reads. A
 * field of a known object that it never read is not in the schema; maps (labels, env values),
 * which the validator walks key by key, count as read.
 */
function unknownFields(manifest: { apiVersion?: unknown; kind?: unknown }): string[] {
  const validate = SCHEMAS[`${String(manifest.apiVersion)}/${String(manifest.kind)}`];
  if (validate === undefined) throw new Error(`no schema for ${String(manifest.apiVersion)} ${String(manifest.kind)}`);
  const read = new WeakMap<object, Set<string>>();
  const noteRead = (target: object, key: string) => {
    const keys = read.get(target) ?? new Set<string>();
    keys.add(key);
    read.set(target, keys);
  };
  const proxies = new WeakMap<object, object>();
  const traced = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const existing = proxies.get(value);
    if (existing !== undefined) return existing;
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string') noteRead(target, key);
        return traced(Reflect.get(target, key, receiver));
      },
      ownKeys(target) {
        const keys = Reflect.ownKeys(target);
        for (const key of keys) if (typeof key === 'string') noteRead(target, key);
        return keys;
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  validate(traced(manifest));
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
      if (!Array.isArray(value) && !read.get(value)?.has(key)) unknown.push(childPath);
      else walk(child, childPath);
    }
  };
  walk(manifest, '');
  return unknown;
}

/** Throws when the object is not a valid manifest of a kind listed above. */
function validateManifest(object: { apiVersion?: unknown; kind?: unknown }): void {
  const Model = MODELS[`${String(object.apiVersion)}/${String(object.kind)}`];
  if (Model === undefined) throw new Error(`no schema for ${String(object.apiVersion)} ${String(object.kind)}`);
  new Model(object as never).validate();
}

function loadManifests(): Manifest[] {
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8')).map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
        return { ...(document.toJS() as Omit<Manifest, 'file'>), file };
      }),
    );
}

const manifests = loadManifests();
const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const deployment = (name: string) => ofKind('Deployment').find((manifest) => manifest.metadata.name === name);
// biome-ignore lint/suspicious/noExplicitAny: container specs as parsed
const containersOf = (manifest: Manifest): any[] => manifest.spec.template.spec.containers;

describe('Kubernetes manifests', () => {
  it('are all valid against the Kubernetes schemas', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(12);
    for (const manifest of manifests) {
      expect(
        () => validateManifest(manifest),
        `${manifest.file}: ${manifest.kind} ${manifest.metadata.name}`,
      ).not.toThrow();
      const { file: _file, ...document } = manifest;
      expect(unknownFields(document), `${manifest.file}: fields the schema does not know`).toEqual([]);
      expect(manifest.metadata.namespace ?? 'otp').toBe('otp');
    }
  });

  it('rejects broken manifests (the check can fail)', () => {
    const gateway = structuredClone(deployment('gateway')) as Manifest;
    const broken = [
      { ...gateway, spec: { ...gateway.spec, replicas: 'two' } },
      { ...gateway, spec: { ...gateway.spec, selector: undefined } },
      { ...gateway, spec: { ...gateway.spec, strategy: { type: 'Sometimes' } } },
      { ...gateway, apiVersion: 'apps/v1beta9' },
    ];
    for (const manifest of broken) expect(() => validateManifest(JSON.parse(JSON.stringify(manifest)))).toThrow();
    // A misspelt field passes the generated validators; the read trace finds it.
    const { file: _file, ...misspelt } = structuredClone(gateway);
    const [container] = containersOf(misspelt as Manifest);
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    misspelt.spec.replica = 2;
    expect(unknownFields(misspelt).sort()).toEqual([
      '.spec.replica',
      '.spec.template.spec.containers[0].readinesProbe',
    ]);
    const probeWithoutPort = structuredClone(gateway);
    containersOf(probeWithoutPort)[0].readinessProbe.httpGet = { path: '/health/ready' };
    expect(() => validateManifest(probeWithoutPort)).toThrow(/port/);
  });

  it('run the gateway, the three workers and the dashboard, a migrate Job, an HPA and a PDB for the gateway', () => {
    expect(
      ofKind('Deployment')
        .map((manifest) => manifest.metadata.name)
        .sort(),
    ).toEqual(['dashboard', 'email-worker', 'gateway', 'sms-worker', 'webhook-worker']);
    expect(ofKind('Job').map((manifest) => manifest.metadata.name)).toEqual(['otp-migrate']);
    const [hpa] = ofKind('HorizontalPodAutoscaler');
    expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const [pdb] = ofKind('PodDisruptionBudget');
    expect(pdb?.spec.selector.matchLabels).toEqual(deployment('gateway')?.spec.selector.matchLabels);
  });

  it('select their own pods, and every Service reaches a Deployment on a named port', () => {
    for (const manifest of ofKind('Deployment')) {
      expect(manifest.spec.template.metadata.labels).toMatchObject(manifest.spec.selector.matchLabels);
    }
    for (const service of ofKind('Service')) {
      const target = ofKind('Deployment').find((manifest) =>
        Object.entries(service.spec.selector).every(
          ([key, value]) => manifest.spec.template.metadata.labels[key] === value,
        ),
      );
      expect(target, `Service ${service.metadata.name}`).toBeDefined();
      const portNames = containersOf(target as Manifest).flatMap((container) =>
        container.ports.map((port: { name: string }) => port.name),
      );
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
  });

  it('probe the health routes, and bound every container with requests and limits', () => {
    for (const manifest of [...ofKind('Deployment'), ...ofKind('Job')]) {
      for (const container of containersOf(manifest)) {
        expect(container.resources.requests, container.name).toMatchObject({
          cpu: expect.anything(),
          memory: expect.anything(),
        });
        expect(container.resources.limits, container.name).toMatchObject({
          cpu: expect.anything(),
          memory: expect.anything(),
        });
        if (manifest.kind === 'Job') continue;
        expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
        expect(container.livenessProbe.httpGet.path).toBe('/health/live');
        const portNames = container.ports.map((port: { name: string }) => port.name);
        expect(portNames).toContain(container.readinessProbe.httpGet.port);
      }
    }
  });

  it('read secrets only through secretKeyRef, from keys the Secret has, with placeholder values', () => {
    const [secret] = ofKind('Secret');
    const keys = Object.keys(secret?.stringData ?? {});
    for (const value of Object.values(secret?.stringData ?? {})) expect(value).toContain('REPLACE-ME');
    // WEBHOOK_ENDPOINTS holds the endpoints' signing secrets.
    const secretLike = /KEY|KEYS|TOKEN|PASSWORD|SECRET|_URL$|SID$|^DASHBOARD_USER$|^WEBHOOK_ENDPOINTS$/;
    for (const manifest of [...ofKind('Deployment'), ...ofKind('Job')]) {
      for (const container of containersOf(manifest)) {
        for (const variable of container.env) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref !== undefined) {
            expect(ref.name).toBe(secret?.metadata.name);
            expect(keys).toContain(ref.key);
          } else if (
            !['JWT_ISSUER', 'PUBLIC_BASE_URL', 'TWILIO_STATUS_CALLBACK_URL', 'ADMIN_API_URL'].includes(variable.name)
          ) {
            expect(variable.name, `${manifest.metadata.name}: ${variable.name} must come from the Secret`).not.toMatch(
              secretLike,
            );
          }
        }
      }
    }
  });

  it('set only variables the services read', () => {
    const schemas = {
      gateway: GatewayConfigSchema,
      'email-worker': EmailWorkerConfigSchema,
      'sms-worker': SmsWorkerConfigSchema,
      'webhook-worker': WebhookWorkerConfigSchema,
      dashboard: DashboardConfigSchema,
    };
    for (const [name, schema] of Object.entries(schemas)) {
      const names = containersOf(deployment(name) as Manifest)[0].env.map(
        (variable: { name: string }) => variable.name,
      );
      expect(
        names.filter((variable: string) => !(variable in schema.properties)),
        name,
      ).toEqual([]);
    }
  });

  it('give each worker its shutdown deadline, and the 5 s after it, before Kubernetes kills it', () => {
    for (const name of ['email-worker', 'sms-worker', 'webhook-worker']) {
      const worker = deployment(name) as Manifest;
      const timeout = containersOf(worker)[0].env.find(
        (variable: { name: string }) => variable.name === 'SHUTDOWN_TIMEOUT_MS',
      )?.value;
      expect(timeout, name).toBeDefined();
      expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000, name).toBeGreaterThan(
        Number(timeout) + 5000,
      );
    }
  });

  it("give the gateway's drain and shutdown time to finish before Kubernetes kills it", () => {
    const gateway = deployment('gateway') as Manifest;
    const env = Object.fromEntries(
      containersOf(gateway)[0]
        .env.filter((variable: { value?: string }) => variable.value !== undefined)
        .map((variable: { name: string; value: string }) => [variable.name, variable.value]),
    );
    // The gateway's own config check accepts the drain inside the deadline...
    let problems: string[] = [];
    try {
      parseGatewayConfig(env);
    } catch (error) {
      // A ConfigError lists the problems; anything else is a bug here.
      if (!Array.isArray((error as { problems?: unknown }).problems)) throw error;
      problems = (error as { problems: string[] }).problems;
    }
    expect(problems.filter((problem) => problem.startsWith('SHUTDOWN_'))).toEqual([]);
    // ...and the deadline ends before the kill.
    expect(gateway.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(env.SHUTDOWN_TIMEOUT_MS),
    );
    expect(gateway.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('run every service in production mode, and the services accept their env there', () => {
    const secret = manifests.find((manifest) => manifest.kind === 'Secret')?.stringData ?? {};
    // The Secret's placeholders, made into values of the right form (as an operator fills them in).
    const filled: Record<string, string> = {
      ...secret,
      CODE_HMAC_KEY: testSecret(),
      ENVELOPE_KEYS: testKeyRing(),
      FACTOR_KEYS: testKeyRing('factor'),
      JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      ADMIN_API_KEYS: `ops:${'a'.repeat(43)}`,
      API_KEYS: `shop:${'b'.repeat(43)}`,
      DATABASE_URL: 'postgres://otp:secret@postgres.example.internal:5432/otp',
      REDIS_URL: 'redis://redis.example.internal:6379',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    };
    const envOf = (name: string): Record<string, string> =>
      Object.fromEntries(
        containersOf(deployment(name) as Manifest)[0].env.map(
          (variable: { name: string; value?: string; valueFrom?: { secretKeyRef: { key: string } } }) => [
            variable.name,
            variable.value ?? filled[variable.valueFrom?.secretKeyRef.key ?? ''] ?? '',
          ],
        ),
      );
    for (const name of ['gateway', 'email-worker', 'sms-worker', 'webhook-worker', 'dashboard']) {
      expect(envOf(name).OTP_ENV, name).toBe('production');
    }
    expect(parseGatewayConfig(envOf('gateway')).OTP_ENV).toBe('production');
    expect(parseEmailWorkerConfig(envOf('email-worker')).providers.map((provider) => provider.name)).toEqual(['smtp']);
    expect(parseSmsWorkerConfig(envOf('sms-worker')).providers.map((provider) => provider.name)).toEqual(['twilio']);
  });
});
