import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  freePort,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

// The shipped Prometheus configuration, checked by Debian's Prometheus (`apt-get install
// prometheus`): promtool validates the scrape config and the rules and runs the rules' unit
// tests; then Prometheus itself scrapes a real gateway, email worker and webhook worker with the shipped jobs
// (their DNS discovery swapped for the processes' loopback addresses) and the shipped rules.
const execFileAsync = promisify(execFile);
const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const GRAFANA_DASHBOARD = new URL('../../deploy/grafana/dashboards/otp-system.json', import.meta.url);
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

function requireDebianPrometheus(): void {
  for (const binary of [PROMETHEUS, PROMTOOL]) {
    if (!existsSync(binary)) {
      throw new Error(
        `${binary} is missing: install Debian's Prometheus (apt-get install --no-install-recommends prometheus)`,
      );
    }
  }
}

async function promtool(...args: string[]): Promise<string> {
  requireDebianPrometheus();
  const { stdout, stderr } = await execFileAsync(PROMTOOL, args, { cwd: PROMETHEUS_DIR });
  return `${stdout}${stderr}`;
}

// The metrics the services expose (ARCHITECTURE.md, "Metrics"); alerts and dashboard use no other.
const KNOWN_METRICS = [
  'up',
  'http_request_duration_seconds',
  'otp_code_events_total',
  'otp_sends_total',
  'otp_delivery_latency_seconds',
  'otp_queue_jobs',
  'otp_outbox_oldest_pending_seconds',
  'otp_history_partition_horizon_seconds',
  'otp_gateway_dependency_up',
  // The SMS fraud defences (docs/sms-fraud.md).
  'otp_sms_requested_total',
  'otp_sms_refused_total',
  'otp_sms_sent_total',
  'otp_sms_verified_total',
  'otp_sms_breaker_trips_total',
  'otp_sms_budget_limit',
  'otp_sms_budget_remaining',
  'otp_sms_suspended',
  'otp_kill_switch_off',
  // The webhook worker (docs/webhooks.md).
  'otp_webhook_deliveries_total',
  'otp_webhook_endpoint_disabled',
  'otp_webhook_outbox_oldest_pending_seconds',
  'otp_webhook_delivery_duration_seconds',
];
/** Metric names in a PromQL expression: a name followed by a selector or a range, or alone in (). */
function metricNames(promql: string): string[] {
  // Grouping labels, `by (queue)`, are not metrics.
  const expression = promql.replaceAll(/\b(by|without)\s*\([^)]*\)/g, '');
  const selected = [...expression.matchAll(/([a-z_][a-z0-9_]*)\s*[{[]/g)].map((match) => match[1] as string);
  const bare = [...expression.matchAll(/\(\s*([a-z_][a-z0-9_]*)\s*\)/g)].map((match) => match[1] as string);
  return [...selected, ...bare].map((name) => name.replace(/_(bucket|count|sum)$/, ''));
}

describe('Prometheus configuration (promtool)', () => {
  it('the scrape config is valid and finds the rules file', async () => {
    const output = await promtool('check', 'config', 'prometheus.yml');
    expect(output).toMatch(/SUCCESS: 1 rule files found/);
    expect(output).toMatch(/prometheus\.yml is valid/);
  });

  it('the alert rules are valid', async () => {
    expect(await promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("the alert rules' unit tests pass: each alert fires on its situation", async () => {
    expect(await promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });

  it('scrapes every service, and alerts and dashboard use only metrics the services expose', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
    };
    const discovered = Object.fromEntries(
      config.scrape_configs
        .filter((job) => job.dns_sd_configs !== undefined)
        .map((job) => [job.job_name, job.dns_sd_configs?.[0]?.port]),
    );
    expect(discovered).toEqual({
      gateway: 3100,
      'email-worker': 3101,
      'sms-worker': 3102,
      'webhook-worker': 3103,
      dashboard: 3001,
    });

    const rules = parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'OtpTargetDown',
        'OtpGatewayErrorRatio',
        'OtpOutboxRelayLagging',
        'OtpGatewayRedisDown',
        'OtpQueueFailedJobs',
        'OtpDeliveryFailureRatio',
        'OtpVerificationFailureSpike',
        'OtpSmsBudgetLow',
        'OtpSmsBudgetExhausted',
        'OtpSmsBreakerTripped',
        'OtpSmsRefusalSpike',
        'WebhookEndpointDisabled',
        'WebhookDeadLetters',
        'WebhookOutboxBacklog',
      ]),
    );
    const dashboard = JSON.parse(readFileSync(GRAFANA_DASHBOARD, 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Request rate by route',
        'Verification success rate',
        'Delivery latency p50 / p99',
        'Queue depth',
        'SMS by country: requested, sent, verified',
        'SMS refused by reason',
        'SMS budget remaining today',
        'SMS suspended by the breaker',
        'Kill switches',
        'Webhook deliveries by outcome',
        'Webhook endpoints disabled',
      ]),
    );
    const expressions = [
      ...alerts.map((rule) => rule.expr),
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
    ];
    const used = new Set(expressions.flatMap(metricNames));
    expect([...used].filter((name) => !KNOWN_METRICS.includes(name))).toEqual([]);
    expect(used.size).toBe(KNOWN_METRICS.length);
  });
});

// Needs /metrics on the gateway and the workers (issue 6's metrics work).
describe('Prometheus scraping the services with the shipped jobs and rules', () => {
  let database: TestDatabase;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  const services: ServiceProcess[] = [];
  const prometheusLog: string[] = [];

  beforeAll(async () => {
    requireDebianPrometheus();
    database = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'otp-prometheus-'));
    const [gatewayPort, gatewayOpsPort, emailPort, webhookPort, prometheusPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: uniqueQueuePrefix(),
      ENVELOPE_KEYS: testKeyRing('prometheus'),
      LOG_LEVEL: 'warn',
    };
    services.push(
      ...(await Promise.all([
        startService({
          name: 'gateway',
          env: {
            ...shared,
            HOST: '127.0.0.1',
            PORT: String(gatewayPort),
            GATEWAY_OPS_PORT: String(gatewayOpsPort),
            ADMIN_PORT: String(await freePort()),
            CODE_HMAC_KEY: testSecret(),
            FACTOR_KEYS: testKeyRing('prometheus-factor'),
            SMS_ALLOWED_COUNTRIES: '*',
            JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
              .privateKey.export({ format: 'pem', type: 'pkcs8' })
              .toString(),
            SHUTDOWN_DRAIN_MS: '0',
          },
          readyUrl: `http://127.0.0.1:${gatewayPort}/health/ready`,
        }),
        startService({
          name: 'email-worker',
          env: { ...shared, OPS_HOST: '127.0.0.1', EMAIL_WORKER_PORT: String(emailPort), DEV_OUTBOX_DIR: dir },
          readyUrl: `http://127.0.0.1:${emailPort}/health/ready`,
        }),
        // No endpoint: its outbox gauge and endpoint metrics are what the webhook alerts read.
        startService({
          name: 'webhook-worker',
          env: { ...shared, OPS_HOST: '127.0.0.1', WEBHOOK_WORKER_PORT: String(webhookPort) },
          readyUrl: `http://127.0.0.1:${webhookPort}/health/ready`,
        }),
      ])),
    );

    // The shipped config, with each started service's DNS discovery replaced by its address.
    const shipped = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, unknown>;
      rule_files: string[];
      scrape_configs: Array<Record<string, unknown> & { job_name: string }>;
    };
    const addresses: Record<string, string> = {
      // The gateway is scraped on its ops port, as the shipped config does.
      gateway: `127.0.0.1:${gatewayOpsPort}`,
      'email-worker': `127.0.0.1:${emailPort}`,
      'webhook-worker': `127.0.0.1:${webhookPort}`,
    };
    const config = {
      global: { ...shipped.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: shipped.rule_files.map((file) => join(PROMETHEUS_DIR, file)),
      scrape_configs: shipped.scrape_configs
        .filter((job) => addresses[job.job_name] !== undefined)
        .map(({ dns_sd_configs: _dns, ...job }) => ({
          ...job,
          static_configs: [{ targets: [addresses[job.job_name]] }],
        })),
    };
    await writeFile(join(dir, 'prometheus.yml'), stringify(config));
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr?.on('data', (chunk: Buffer) => prometheusLog.push(chunk.toString('utf8')));
  });

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(services.map((service) => service.stop('SIGTERM')));
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('finds every target up, with the rules loaded', async () => {
    interface Target {
      labels: { job: string };
      health: string;
      lastError: string;
    }
    let targets: Target[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      // Until it is ready, Prometheus refuses the connection or answers 503 in plain text: wait.
      const answer = await fetch(`${prometheusUrl}/api/v1/targets?state=active`)
        .then(async (response) => (await response.json()) as { data: { activeTargets: Target[] } })
        .catch(() => undefined);
      targets = answer?.data.activeTargets ?? [];
      if (targets.length === 3 && targets.every((target) => target.health !== 'unknown')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const health = Object.fromEntries(
      targets.map((target) => [
        target.labels.job,
        `${target.health}${target.lastError ? `: ${target.lastError}` : ''}`,
      ]),
    );
    expect(health, prometheusLog.join('')).toEqual({ gateway: 'up', 'email-worker': 'up', 'webhook-worker': 'up' });

    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: unknown[] }> };
    };
    expect(rules.data.groups.flatMap((group) => group.rules).length).toBeGreaterThanOrEqual(6);
    // The gateway's own metrics arrive under the gateway job.
    const query = async (promql: string) => {
      const answer = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return ((await answer.json()) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result;
    };
    expect(await query('up{job="gateway"}')).toHaveLength(1);
    // The SMS gauges the alerts read, with the labels their rules group by (scope, kind), come from
    // the gateway before any SMS was asked for, so a quiet system's alerts have series to read.
    const scopes = (await query('max by (scope) (otp_sms_budget_remaining{job="gateway"})')).map((r) => r.metric.scope);
    expect(scopes).toEqual(['all']);
    expect(await query('max by (scope) (otp_sms_budget_limit{job="gateway"})')).toHaveLength(1);
    const kinds = (await query('max by (kind) (otp_sms_suspended{job="gateway"})')).map((r) => r.metric.kind);
    expect(kinds.sort()).toEqual(['country', 'range']);
    // The webhook relay's lag, which WebhookOutboxBacklog reads, comes from the webhook worker job.
    expect(await query('otp_webhook_outbox_oldest_pending_seconds{job="webhook-worker"}')).toHaveLength(1);
  }, 90_000);
});
