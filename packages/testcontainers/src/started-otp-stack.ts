import type { StartedTestContainer } from 'testcontainers';
import { type DeliveredMessage, messagesTo } from './inbox.ts';
import type { LogBuffer } from './log-buffer.ts';
import type { OtpService } from './stack-options.ts';

export interface OtpTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface SignInResult {
  user: { id: string; email: string | null; phone: string | null; [field: string]: unknown };
  tokens: OtpTokens;
  challengeId: string;
}

/** Where a started stack answers: plain data, so a global setup can `provide` it to test files. */
export interface OtpStackConnection {
  gatewayUrl: string;
  /** The gateway's admin API (docs/administration.md), e.g. `http://localhost:32772`. */
  adminUrl: string;
  /** The stack's own admin API key; null when `adminApiKeys` configured others. */
  adminApiKey: string | null;
  issuer: string;
  audience: string;
  codeLength: number;
  mailDevUrl: string;
  smsInboxUrl: string;
  /** The webhook worker's health and metrics port, e.g. `http://localhost:32775` (`/metrics`). */
  webhookWorkerUrl: string;
  databaseUrl: string;
  redisUrl: string;
  /** The queue dashboard and its basic sign-in, when the stack runs one (`withDashboard()`); else null. */
  dashboard: { url: string; user: string; password: string } | null;
}

export interface StartedOtpStackParts {
  connection: OtpStackConnection;
  containers: Map<OtpService, StartedTestContainer>;
  logs: Map<OtpService, LogBuffer>;
  networkName: string;
  stop: () => Promise<void>;
}

/** A request to the gateway that did not answer as a sign-in step should. */
export class OtpStackRequestError extends Error {
  readonly status: number;
  /** The problem+json `code` of the answer, when it had one. */
  readonly code: string | undefined;

  constructor(step: string, status: number, body: unknown) {
    const code =
      typeof body === 'object' && body !== null && 'code' in body && typeof body.code === 'string'
        ? body.code
        : undefined;
    super(`${step} answered ${status}${code === undefined ? '' : ` (${code})`}`);
    this.name = 'OtpStackRequestError';
    this.status = status;
    this.code = code;
  }
}

/**
 * What a started stack gives a test, from its connection: usable in any process, e.g. in test
 * files of a run whose global setup started the stack (`new OtpStackClient(inject('otpStack'))`).
 * Every URL is reachable from the test process.
 */
export class OtpStackClient implements OtpStackConnection {
  /** The gateway's HTTP API, e.g. `http://localhost:32771`. */
  readonly gatewayUrl: string;
  /** The public keys that verify access tokens. */
  readonly jwksUrl: string;
  /** The admin API (`Authorization: Bearer <adminApiKey>`), never exposed outside a real deployment. */
  readonly adminUrl: string;
  /** The stack's own admin API key; null when the stack was given `adminApiKeys`. */
  readonly adminApiKey: string | null;
  /** `iss` of the access tokens (the gateway's address inside the stack). */
  readonly issuer: string;
  /** `aud` of the access tokens. */
  readonly audience: string;
  /** Postgres of the stack, for assertions (`postgres://otp:…@localhost:PORT/otp`). */
  readonly databaseUrl: string;
  /** Redis of the stack, for assertions. */
  readonly redisUrl: string;
  /** MailDev's web UI and REST API (`GET /email`). */
  readonly mailDevUrl: string;
  /** The Twilio-shaped SMS inbox (`GET /messages`). */
  readonly smsInboxUrl: string;
  /** The webhook worker's `/health/ready` and `/metrics` (otp_webhook_deliveries_total...). */
  readonly webhookWorkerUrl: string;
  readonly codeLength: number;
  /** The queue dashboard (bull-board, kill switches, Lookup) and its sign-in; null without `withDashboard()`. */
  readonly dashboard: { url: string; user: string; password: string } | null;
  /** Messages `waitForCode` has already returned. */
  readonly #handedOut = new Set<string>();

  constructor(connection: OtpStackConnection) {
    this.gatewayUrl = connection.gatewayUrl;
    this.jwksUrl = `${connection.gatewayUrl}/.well-known/jwks.json`;
    this.adminUrl = connection.adminUrl;
    this.adminApiKey = connection.adminApiKey;
    this.issuer = connection.issuer;
    this.audience = connection.audience;
    this.databaseUrl = connection.databaseUrl;
    this.redisUrl = connection.redisUrl;
    this.mailDevUrl = connection.mailDevUrl;
    this.smsInboxUrl = connection.smsInboxUrl;
    this.webhookWorkerUrl = connection.webhookWorkerUrl;
    this.codeLength = connection.codeLength;
    this.dashboard = connection.dashboard;
  }

  /** The connection as plain data, for `project.provide`. */
  connection(): OtpStackConnection {
    const { gatewayUrl, adminUrl, adminApiKey, issuer, audience, codeLength, dashboard } = this;
    const { mailDevUrl, smsInboxUrl, webhookWorkerUrl, databaseUrl, redisUrl } = this;
    return {
      gatewayUrl,
      adminUrl,
      adminApiKey,
      issuer,
      audience,
      codeLength,
      mailDevUrl,
      smsInboxUrl,
      webhookWorkerUrl,
      databaseUrl,
      redisUrl,
      dashboard,
    };
  }

  #messages(to: string): Promise<DeliveredMessage[]> {
    return messagesTo(to, this);
  }

  /** The code of the newest message delivered to `to` (an email address or a phone number). */
  async latestCode(to: string): Promise<string | undefined> {
    return (await this.#messages(to)).findLast((message) => message.code !== undefined)?.code;
  }

  /**
   * The code of the oldest message to `to` that no earlier `waitForCode` of this stack returned,
   * waiting for one to arrive: request a code, then `waitForCode(to)` gives that code, however
   * fast it was delivered, and the next request's code comes with the next call.
   */
  async waitForCode(to: string, { timeout = 30_000 }: { timeout?: number } = {}): Promise<string> {
    const deadline = Date.now() + timeout;
    let lastError: unknown;
    for (;;) {
      try {
        const fresh = (await this.#messages(to)).find(
          (message) => message.code !== undefined && !this.#handedOut.has(message.id),
        );
        if (fresh?.code !== undefined) {
          this.#handedOut.add(fresh.id);
          return fresh.code;
        }
      } catch (error) {
        lastError = error; // the inbox is unreachable for a moment: keep trying until the deadline
      }
      if (Date.now() >= deadline) {
        throw new Error(`no code reached ${to.includes('@') ? 'MailDev' : 'the SMS inbox'} within ${timeout} ms`, {
          cause: lastError,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #post(step: string, path: string, body: unknown, expected: number): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (response.status !== expected) throw new OtpStackRequestError(step, response.status, json);
    return json ?? {};
  }

  /**
   * Signs `to` in with a login code, as a user would: requests the code (by email when `to` holds
   * an @, by SMS otherwise), reads it where it was delivered, and verifies it. A new address gets
   * an account (unless sign-up is off: then this throws with the gateway's code).
   */
  async signIn(to: string): Promise<SignInResult> {
    const channel = to.includes('@') ? 'email' : 'sms';
    const challenge = await this.#post(
      'requesting a code',
      '/v1/otp/challenges',
      { channel, to, purpose: 'login' },
      202,
    );
    const challengeId = String(challenge.challengeId);
    const code = await this.waitForCode(to);
    const verified = await this.#post('verifying the code', `/v1/otp/challenges/${challengeId}/verify`, { code }, 200);
    if (verified.tokens === undefined) {
      throw new Error('the account has a second factor: finish with POST /v1/auth/mfa (signIn does not)');
    }
    return { user: verified.user as SignInResult['user'], tokens: verified.tokens as OtpTokens, challengeId };
  }
}

/** A started stack: the client, plus its containers, their logs and `stop()`. */
export class StartedOtpStack extends OtpStackClient {
  readonly #parts: StartedOtpStackParts;

  constructor(parts: StartedOtpStackParts) {
    super(parts.connection);
    this.#parts = parts;
  }

  /** The Docker network every container of the stack is on. */
  get networkName(): string {
    return this.#parts.networkName;
  }

  /** The running container of a service (the one-shot migrate container is gone once it ran). */
  container(service: OtpService): StartedTestContainer | undefined {
    return this.#parts.containers.get(service);
  }

  /** What a service has logged since it started (its last 256 KiB). */
  logs(service: OtpService): string {
    return this.#parts.logs.get(service)?.text() ?? '';
  }

  /** The last `lines` lines of every service, headed by its name: print it when a test fails. */
  logReport(lines = 50): string {
    const parts: string[] = [];
    for (const [service, buffer] of this.#parts.logs) parts.push(`--- ${service} ---\n${buffer.tail(lines)}`);
    return parts.join('\n');
  }

  /** Stops and removes every container, then the network. */
  async stop(): Promise<void> {
    await this.#parts.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
