import { execFile } from 'node:child_process';
import { sql } from '@otp/db';
import { createLogger } from '@otp/runtime';
import { parseExposition, REPO_ROOT, sampleValue } from '@otp/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resend } from '../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../testing/gateway.fixture.ts';
import { post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';

// The operator's kill switches across two replicas of one deployment: switched through the real
// command (a child process, as an operator runs it), seen by both replicas within a few reads of
// KILL_SWITCH_REFRESH_MS, answered 503 channel_suspended before anything is written.
const GB = '+447400123456';
const FR = '+33612345678';
// libphonenumber (the country the gateway goes by) puts +44 7911 12... in Guernsey, not in GB.
const GG = '+447911123456';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kill switches', () => {
  const env = {
    KILL_SWITCH_REFRESH_MS: '200',
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000',
    OTP_RECIPIENT_LIMIT: '1000',
    OTP_RESEND_COOLDOWN_SECONDS: '0',
    OTP_MAX_SENDS: '10',
  };
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    service: 'gateway',
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  const primary = useTestGateway({ env, log });
  const second = useTestReplica(primary, env);
  const replicas = (): TestGateway[] => [primary.gateway, second.gateway];

  /** `ops kill-switch <args>` against this file's database, from the repository root. */
  function killSwitch(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--experimental-strip-types', 'services/gateway/src/ops/ops.cli.ts', 'kill-switch', ...args],
        { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ENV_FILE: '', DATABASE_URL: primary.database.url } },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      );
    });
  }

  async function switchTo(target: string, state: 'off' | 'on'): Promise<void> {
    const run = await killSwitch(target, state, '--by', 'test-operator');
    expect(run.code, run.stderr).toBe(0);
  }

  const request = (gateway: TestGateway, body: Record<string, unknown>) =>
    post(gateway.app, '/v1/otp/challenges', body);
  const sms = (to: string) => ({ channel: 'sms', to });

  /** Waits until every replica answers a request for `body` with `status` (polled, a few seconds at most). */
  async function untilEveryReplica(body: Record<string, unknown>, status: number): Promise<void> {
    await vi.waitFor(
      async () => {
        for (const gateway of replicas()) expect((await request(gateway, body)).status).toBe(status);
      },
      { timeout: 5000, interval: 50 },
    );
  }

  async function rows(): Promise<{ challenges: number; outbox: number }> {
    const count = async (table: 'otp_challenges' | 'delivery_outbox') =>
      Number(
        (
          await primary.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return { challenges: await count('otp_challenges'), outbox: await count('delivery_outbox') };
  }

  // Every test starts with every switch on, whatever the one before left.
  afterEach(async () => {
    await sql`UPDATE kill_switches SET off = false`.execute(primary.database.db);
    await Promise.all(replicas().map((gateway) => gateway.deps.killSwitches.refresh()));
  });

  it('sms off: both replicas refuse SMS with 503 channel_suspended, writing nothing, and email still goes', async () => {
    const run = await killSwitch('sms', 'off', '--by', 'test-operator');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sms: off .* by test-operator$/m);

    await untilEveryReplica(sms(FR), 503);
    const before = await rows();
    for (const gateway of replicas()) {
      const refused = await request(gateway, sms(GB));
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('channel_suspended');
      expect(refused.headers['retry-after']).toBe('60');
      expect(refused.contentType).toContain('application/problem+json');
    }
    expect(await rows()).toEqual(before);
    for (const gateway of replicas()) {
      expect((await request(gateway, { channel: 'email', to: uniqueEmail('kill') })).status).toBe(202);
    }

    // The replica said what it saw, and who did it.
    expect(lines.filter((line) => line.msg === 'kill switch off: sends stopped')).toEqual([
      expect.objectContaining({ component: 'kill-switches', target: 'sms', off: true, changedBy: 'test-operator' }),
    ]);

    await switchTo('sms', 'on');
    await untilEveryReplica(sms(FR), 202);
    expect(lines.filter((line) => line.msg === 'kill switch on again: sends resume')).toEqual([
      expect.objectContaining({ target: 'sms', off: false }),
    ]);
  });

  it('country:GB off refuses SMS to GB numbers only', async () => {
    await switchTo('country:gb', 'off');
    await untilEveryReplica(sms(GB), 503);
    for (const gateway of replicas()) {
      expect((await request(gateway, sms(GB))).body.code).toBe('channel_suspended');
      expect((await request(gateway, sms(FR))).status).toBe(202);
      expect((await request(gateway, sms(GG))).status).toBe(202);
      expect((await request(gateway, { channel: 'email', to: uniqueEmail('gb') })).status).toBe(202);
    }

    await switchTo('country:GB', 'on');
    await untilEveryReplica(sms(GB), 202);
  });

  it('provider:twilio off refuses SMS (the only SMS provider), not email', async () => {
    await switchTo('provider:twilio', 'off');
    await untilEveryReplica(sms(FR), 503);
    for (const gateway of replicas()) {
      expect((await request(gateway, { channel: 'email', to: uniqueEmail('twilio') })).status).toBe(202);
    }
    await switchTo('provider:twilio', 'on');
    await untilEveryReplica(sms(FR), 202);
  });

  it('email off refuses email, not SMS', async () => {
    await switchTo('email', 'off');
    await untilEveryReplica({ channel: 'email', to: uniqueEmail('off') }, 503);
    expect((await request(primary.gateway, sms(FR))).status).toBe(202);
  });

  it('refuses a resend while its channel is off, writing nothing; sends it once on again', async () => {
    const created = await request(primary.gateway, sms(GB));
    expect(created.status).toBe(202);
    const id = String(created.body.challengeId);
    const sends = async () =>
      (await primary.database.db.selectFrom('delivery_outbox').select('id').where('challenge_id', '=', id).execute())
        .length;

    await switchTo('country:GB', 'off');
    // A resend that went through before a replica saw the switch would be a send: wait on new requests.
    await untilEveryReplica(sms(GB), 503);
    for (const gateway of replicas()) {
      const refused = await resend(gateway, id);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('channel_suspended');
    }
    expect(await sends()).toBe(1);
    const challenge = await primary.database.db
      .selectFrom('otp_challenges')
      .select(['send_count', 'delivery_status'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(challenge).toEqual({ send_count: 1, delivery_status: 'queued' });

    await switchTo('country:GB', 'on');
    await untilEveryReplica(sms(GB), 202);
    expect((await resend(second.gateway, id)).status).toBe(202);
    expect(await sends()).toBe(2);
  });

  it('shows each switch in /metrics as otp_kill_switch_off{target}, 1 off and 0 on again', async () => {
    const gauge = async (gateway: TestGateway, target: string) => {
      const response = await gateway.ops.inject({ method: 'GET', url: '/metrics' });
      return sampleValue(parseExposition(response.body), 'otp_kill_switch_off', { target, service: 'gateway' });
    };
    await switchTo('country:FR', 'off');
    await vi.waitFor(
      async () => {
        for (const gateway of replicas()) expect(await gauge(gateway, 'country:FR')).toBe(1);
      },
      { timeout: 5000, interval: 50 },
    );
    await switchTo('country:FR', 'on');
    await vi.waitFor(
      async () => {
        for (const gateway of replicas()) expect(await gauge(gateway, 'country:FR')).toBe(0);
      },
      { timeout: 5000, interval: 50 },
    );
  });

  it('the command refuses what it cannot switch, changing nothing, and lists what is set', async () => {
    await switchTo('provider:smtp', 'on');
    const before = await primary.database.db.selectFrom('kill_switches').selectAll().orderBy('target').execute();
    for (const args of [
      ['country:UK', 'off'],
      ['provider:vonage', 'off'],
      ['sms', 'maybe'],
      ['sms'],
      ['sms', 'off', '--by', ''],
    ]) {
      const run = await killSwitch(...args);
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr, args.join(' ')).toContain('usage: ops kill-switch');
    }
    expect(await primary.database.db.selectFrom('kill_switches').selectAll().orderBy('target').execute()).toEqual(
      before,
    );

    const listed = await killSwitch('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^provider:smtp: on, since .* UTC by test-operator$/m);
  });
});
