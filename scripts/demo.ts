// `pnpm demo`: walks the sign-in flow against a running system and prints every step.
//   DEMO_BASE_URL        the API: a gateway, or compose's load balancer (default http://localhost:3000)
//   DEMO_INBOX           where to read delivered codes: "outbox" (files written by the dev
//                        providers, default) or "compose" (MailDev's API and the SMS inbox)
//   DEV_OUTBOX_DIR       the dev providers' folder (default .outbox)
//   DEMO_MAILDEV_URL     MailDev (default http://localhost:1080)
//   DEMO_SMS_INBOX_URL   the Twilio-shaped SMS inbox (default http://localhost:1081)
import { randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const baseUrl = process.env.DEMO_BASE_URL ?? 'http://localhost:3000';
const inbox = process.env.DEMO_INBOX ?? 'outbox';
const outboxDir = process.env.DEV_OUTBOX_DIR ?? '.outbox';
const maildevUrl = process.env.DEMO_MAILDEV_URL ?? 'http://localhost:1080';
const smsInboxUrl = process.env.DEMO_SMS_INBOX_URL ?? 'http://localhost:1081';
const codePattern = /\b(\d{6,10})\b/;

type Json = Record<string, unknown>;

function step(title: string, detail?: unknown): void {
  console.log(`\n▶ ${title}`);
  if (detail !== undefined) console.log(JSON.stringify(detail, null, 2).replace(/^/gm, '  '));
}

async function call(
  method: string,
  path: string,
  body?: Json,
  token?: string,
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = (text === '' ? {} : JSON.parse(text)) as Json;
  console.log(`  ${method} ${path} → ${response.status}`);
  return { status: response.status, json };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function firstCode(text: string): string | undefined {
  return codePattern.exec(text)?.[1];
}

async function codeFromOutbox(channel: 'email' | 'sms', challengeId: string): Promise<{ code: string; where: string }> {
  const folder = join(outboxDir, channel);
  return waitFor(`the ${channel} in ${folder}`, async () => {
    const file = (await readdir(folder)).find((name) => name.includes(challengeId));
    if (file === undefined) return undefined;
    const content = await readFile(join(folder, file), 'utf8');
    // For email, read the plain-text part: the first code after the headers.
    const body = channel === 'email' ? content.slice(content.indexOf('\r\n\r\n')) : content;
    const code = firstCode(body.replace(/=\r?\n/g, ''));
    return code === undefined ? undefined : { code, where: join(folder, file) };
  });
}

async function codeFromMaildev(to: string): Promise<{ code: string; where: string }> {
  return waitFor('the email in MailDev', async () => {
    const emails = (await (await fetch(`${maildevUrl}/email`)).json()) as Array<{
      subject: string;
      text: string;
      to: Array<{ address: string }>;
    }>;
    const mail = emails.reverse().find((email) => email.to.some((recipient) => recipient.address === to));
    const code = mail === undefined ? undefined : firstCode(mail.text);
    return code === undefined ? undefined : { code, where: `MailDev (${maildevUrl}), subject "${mail?.subject}"` };
  });
}

async function codeFromSmsInbox(to: string): Promise<{ code: string; where: string }> {
  return waitFor('the SMS in the SMS inbox', async () => {
    const messages = (await (await fetch(`${smsInboxUrl}/messages`)).json()) as Array<{ to: string; body: string }>;
    const message = messages.reverse().find((candidate) => candidate.to === to);
    const code = message === undefined ? undefined : firstCode(message.body);
    return code === undefined ? undefined : { code, where: `the Twilio-shaped SMS inbox (${smsInboxUrl})` };
  });
}

async function signIn(channel: 'email' | 'sms', to: string): Promise<void> {
  console.log(`\n━━ Sign in with a code by ${channel === 'email' ? 'email' : 'SMS'} ━━`);
  step(`1. Request a code for ${to}`);
  const requested = await call('POST', '/v1/otp/challenges', { channel, to, purpose: 'login' });
  if (requested.status !== 202) throw new Error(`request failed: ${JSON.stringify(requested.json)}`);
  console.log(JSON.stringify(requested.json, null, 2).replace(/^/gm, '  '));
  const challengeId = String(requested.json.challengeId);

  step('2. Read the code where it was delivered');
  const delivered =
    inbox === 'compose'
      ? channel === 'email'
        ? await codeFromMaildev(to)
        : await codeFromSmsInbox(to)
      : await codeFromOutbox(channel, challengeId);
  console.log(`  found code ${delivered.code} in ${delivered.where}`);

  step('3. Delivery status recorded by the worker');
  const handedOver = new Set(['sent', 'delivered']);
  const status = await waitFor('delivery status "sent"', async () => {
    const { json } = await call('GET', `/v1/otp/challenges/${challengeId}`);
    return handedOver.has(String((json.delivery as Json | undefined)?.status)) ? json : undefined;
  });
  console.log(JSON.stringify(status, null, 2).replace(/^/gm, '  '));

  step('4. Verify the code');
  const verified = await call('POST', `/v1/otp/challenges/${challengeId}/verify`, { code: delivered.code });
  if (verified.status !== 200) throw new Error(`verify failed: ${JSON.stringify(verified.json)}`);
  const tokens = verified.json.tokens as Json;
  console.log(
    JSON.stringify(
      {
        user: verified.json.user,
        tokens: { ...tokens, accessToken: `${String(tokens.accessToken).slice(0, 24)}…`, refreshToken: '…' },
      },
      null,
      2,
    ).replace(/^/gm, '  '),
  );

  step('5. Call /v1/me with the access token');
  const me = await call('GET', '/v1/me', undefined, String(tokens.accessToken));
  if (me.status !== 200) throw new Error(`/v1/me failed: ${JSON.stringify(me.json)}`);
  console.log(JSON.stringify(me.json, null, 2).replace(/^/gm, '  '));

  if (channel === 'sms') {
    step('6. Delivery report (Twilio status callback, when the provider sends one)');
    const report = await waitFor(
      'a delivery report',
      async () => {
        const { json } = await call('GET', `/v1/otp/challenges/${challengeId}`);
        return (json.delivery as Json | undefined)?.status === 'delivered' ? json : undefined;
      },
      3000,
    ).catch(() => undefined);
    console.log(
      report === undefined
        ? '  none within 3 s (no status callback configured)'
        : JSON.stringify(report.delivery, null, 2).replace(/^/gm, '  '),
    );
  }
}

try {
  step(`Gateway at ${baseUrl}, codes read from ${inbox === 'compose' ? 'MailDev and the SMS inbox' : outboxDir}`);
  const ready = await call('GET', '/health/ready');
  if (ready.status !== 200) throw new Error(`gateway not ready: ${JSON.stringify(ready.json)}`);
  await signIn('email', `demo-${Date.now()}@example.com`);
  await signIn('sms', `+1415555${String(randomInt(0, 10_000)).padStart(4, '0')}`);
  console.log('\n✔ demo finished: both sign-ins worked end to end');
} catch (error) {
  console.error(`\n✖ demo failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
