import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type SiteverifyFake, startSiteverifyFake } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.ts';

// The SMS defences across two gateway processes sharing one Postgres and one Redis, with the SMS
// worker sending to the Twilio-shaped fake: what the provider is handed is what the limits allow.
let system: RunningSystem;

async function requestSms(baseUrl: string, to: string, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${baseUrl}/v1/otp/challenges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'sms', to, ...extra }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return {
    status: response.status,
    code: body.code as string | undefined,
    retryAfter: response.headers.get('retry-after'),
  };
}

/** All at once, alternating between the two processes; answers tallied by status and code. */
async function burst(numbers: string[]): Promise<Record<string, number>> {
  const answers = await Promise.all(
    numbers.map((to, index) => requestSms(system.baseUrls[index % system.baseUrls.length] as string, to)),
  );
  const tally: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.status === 202 ? '202' : `${answer.status} ${answer.code}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

const numbers = (prefix: string, count: number, length: number, start = 1) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(start + i).padStart(length - prefix.length, '0')}`);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  system = await startSystem(
    {
      SMS_ALLOWED_COUNTRIES: 'GB,FR',
      SMS_RANGE_LIMIT_PER_HOUR: '4',
      SMS_COUNTRY_LIMIT_PER_HOUR: '8',
      SMS_DAILY_BUDGET: '12',
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '10000',
      OTP_TTL_SECONDS: '2',
      SMS_RANGE_CONVERSION_SAMPLE: '3',
      SMS_BREAKER_INTERVAL_MS: '200',
    },
    {},
    { gateways: 2 },
  );
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

describe('SMS defences across two gateway processes', () => {
  it('refuse, limit and budget exactly; the provider is handed only what was accepted', async () => {
    // Where SMS may go: premium rate, satellite, a country off the list.
    expect(await burst(['+449098790123', '+881632000000', '+12025550123', '+4915112345678'])).toEqual({
      '400 recipient_not_allowed': 4,
    });
    // A range: 4 an hour, whichever process answers.
    expect(await burst(numbers('+447400', 10, 13))).toEqual({ '202': 4, '429 sms_range_limited': 6 });
    // The country: 8 an hour over its ranges.
    expect(await burst(numbers('+447700', 6, 13))).toEqual({ '202': 4, '429 sms_country_limited': 2 });
    // The day's budget: 12, the last 4 of them French.
    expect(await burst([...numbers('+33612', 3, 12), ...numbers('+33634', 3, 12)])).toEqual({
      '202': 4,
      '503 sms_budget_exhausted': 2,
    });

    // The worker hands the provider every accepted SMS, and nothing else.
    const deadline = Date.now() + 20_000;
    while (system.twilio.messages.length < 12 && Date.now() < deadline) await pause(100);
    await pause(500);
    const sent = system.twilio.messages.map((sms) => sms.to);
    expect(sent).toHaveLength(12);
    expect(sent.every((to) => to.startsWith('+447400') || to.startsWith('+447700') || to.startsWith('+336'))).toBe(
      true,
    );
  });

  it('suspends a range whose codes expire unverified, on both processes', async () => {
    // The range's 4 codes expire after 2 s; the breaker (every 200 ms) trips it on a sample of 3.
    const deadline = Date.now() + 15_000;
    let answers: Array<Awaited<ReturnType<typeof requestSms>>> = [];
    do {
      await pause(250);
      answers = await Promise.all(system.baseUrls.map((url) => requestSms(url, '+447400999999')));
    } while (answers.some((answer) => answer.code !== 'channel_suspended') && Date.now() < deadline);
    expect(answers.map((answer) => `${answer.status} ${answer.code}`)).toEqual([
      '503 channel_suspended',
      '503 channel_suspended',
    ]);
    expect(Number(answers[0]?.retryAfter)).toBeGreaterThan(3000);
    const events = await system.database.db
      .selectFrom('security_events')
      .select('details')
      .where('type', '=', 'sms.suspended')
      .execute();
    expect(events.map((event) => (event.details as { key: string }).key)).toContain('44-7400');
  });

  it("switches France off on both processes with the operator's command, and on again", async () => {
    const killSwitch = (state: 'on' | 'off') =>
      promisify(execFile)(
        process.execPath,
        ['--experimental-strip-types', 'services/gateway/src/ops/ops.cli.ts', 'kill-switch', 'country:FR', state],
        { env: { PATH: process.env.PATH ?? '', ENV_FILE: '', DATABASE_URL: system.database.url } },
      );
    /** Both processes' answers for a French number, once both agree on `code` (within 10 s). */
    const answersFor = async (code: string) => {
      const deadline = Date.now() + 10_000;
      let answers: Array<Awaited<ReturnType<typeof requestSms>>> = [];
      do {
        answers = await Promise.all(system.baseUrls.map((url) => requestSms(url, '+33656000001')));
        if (answers.every((answer) => answer.code === code)) break;
        await pause(200);
      } while (Date.now() < deadline);
      return answers.map((answer) => `${answer.status} ${answer.code}`);
    };
    await killSwitch('off');
    expect(await answersFor('channel_suspended')).toEqual(['503 channel_suspended', '503 channel_suspended']);
    await killSwitch('on');
    // France is back: its requests meet the spent budget again.
    expect(await answersFor('sms_budget_exhausted')).toEqual(['503 sms_budget_exhausted', '503 sms_budget_exhausted']);
  });
});

describe('the human check across two gateway processes', () => {
  const SECRET = 'e2e-captcha-secret';
  let captchaSystem: RunningSystem;
  let siteverify: SiteverifyFake;

  beforeAll(async () => {
    siteverify = await startSiteverifyFake({ secret: SECRET });
    captchaSystem = await startSystem(
      {
        SMS_ALLOWED_COUNTRIES: 'GB',
        CAPTCHA_PROVIDER: 'hcaptcha',
        CAPTCHA_SECRET: SECRET,
        CAPTCHA_VERIFY_URL: siteverify.url,
        CAPTCHA_MODE: 'sms',
      },
      {},
      { gateways: 2 },
    );
  }, 120_000);

  afterAll(async () => {
    await captchaSystem?.stop();
    await siteverify?.close();
  });

  it('asks both for a token, and a token used at one is refused at the other', async () => {
    const [first, second] = captchaSystem.baseUrls as [string, string];
    const answer = async (url: string, extra: Record<string, unknown> = {}) => {
      const { status, code } = await requestSms(url, '+447400123456', extra);
      return `${status} ${code ?? ''}`.trim();
    };
    expect([await answer(first), await answer(second)]).toEqual(['400 captcha_required', '400 captcha_required']);
    const token = siteverify.issue();
    expect(await answer(first, { captchaToken: token })).toBe('202');
    expect(await answer(second, { captchaToken: token })).toBe('400 captcha_failed');
    expect(captchaSystem.twilio.requests).toBeLessThanOrEqual(1);
  });
});
