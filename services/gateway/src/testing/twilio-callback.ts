import { randomBytes } from 'node:crypto';
import { moveDelivery } from '@otp/db';
import twilio from 'twilio';
import { get, post, type TestGateway } from './gateway.harness.ts';

export const CALLBACK_PATH = '/v1/webhooks/twilio/status';

export interface SentSms {
  id: string;
  sid: string;
}

export const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

let counter = 0;
/** A fresh valid number per call, so tests never trip each other's per-recipient limit. */
export function uniquePhone(): string {
  counter += 1;
  return `+1415555${String(1000 + counter).padStart(4, '0')}`;
}

/** Requests an SMS challenge and records its first send as the worker does once Twilio accepted it. */
export async function sentSmsChallenge(gateway: TestGateway): Promise<SentSms> {
  const response = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: uniquePhone() });
  if (response.status !== 202) throw new Error(`expected 202, got ${response.status} ${response.body.code}`);
  const id = String(response.body.challengeId);
  const sid = messageSid();
  await recordSent(gateway, id, 1, sid);
  return { id, sid };
}

/** What the SMS worker writes after Twilio accepted a send. */
export async function recordSent(gateway: TestGateway, id: string, sendNumber: number, sid: string): Promise<void> {
  const written = await moveDelivery(gateway.deps.db, id, sendNumber, 'sent', {
    providerMessageId: sid,
    lastError: null,
  });
  if (!written) throw new Error('the send was not recorded');
}

/** The callback's path and query, as the SMS worker builds them for one send. */
export const callbackPath = (challengeId: string, sendNumber = 1) =>
  `${CALLBACK_PATH}?challengeId=${challengeId}&sendNumber=${sendNumber}`;

export interface CallbackOptions {
  /** The origin Twilio called (what it signs); default the Host the gateway sees. */
  signedOrigin?: string;
  /** The Host header the gateway sees. */
  host?: string;
  /** Sign with this token instead (a forger's). */
  authToken?: string;
  /** Send this signature header instead of a computed one; null: none at all. */
  signature?: string | null;
  /** Sign this path and query instead of the one called (a tampered query). */
  signedPath?: string;
}

/** Posts a status callback shaped like Twilio's, signed with the twilio SDK's own function. */
export async function postCallback(
  gateway: TestGateway,
  path: string,
  params: Record<string, string>,
  authToken: string,
  options: CallbackOptions = {},
) {
  const host = options.host ?? 'otp.test';
  const signedUrl = `${options.signedOrigin ?? `http://${host}`}${options.signedPath ?? path}`;
  const computed = twilio.getExpectedTwilioSignature(options.authToken ?? authToken, signedUrl, params);
  const signature = options.signature === undefined ? computed : options.signature;
  const response = await gateway.app.inject({
    method: 'POST',
    url: path,
    payload: new URLSearchParams(params).toString(),
    headers: {
      host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
  });
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>),
  };
}

/** The fields Twilio posts for one status (a subset of them; all are signed). */
export function statusParams(sid: string, status: string, errorCode?: string): Record<string, string> {
  return {
    AccountSid: `AC${'0'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    From: '+15005550006',
    MessageSid: sid,
    MessageStatus: status,
    SmsSid: sid,
    SmsStatus: status,
    To: '+14155550100',
    ...(errorCode === undefined ? {} : { ErrorCode: errorCode }),
  };
}

/** The challenge's delivery as a client sees it. */
export async function deliveryOf(gateway: TestGateway, id: string) {
  const response = await get(gateway.app, `/v1/otp/challenges/${id}`);
  return response.body as { status: string; delivery: { status: string; lastError?: string; updatedAt: string } };
}
