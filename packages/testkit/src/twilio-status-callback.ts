import { createHmac } from 'node:crypto';

/**
 * Twilio's request signature (X-Twilio-Signature): HMAC-SHA1 with the account's auth token over
 * the full URL followed by every POST parameter's name and value, sorted by name; base64. Written
 * from Twilio's documented algorithm, so a gateway that accepts it agrees with Twilio, not merely
 * with the SDK that also made it.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const payload = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', authToken).update(payload).digest('base64');
}

export interface StatusCallback {
  sid: string;
  status: string;
  /** What the callback URL answered (0 when it could not be reached). */
  httpStatus: number;
}

/** Posts a message status report to its StatusCallback URL, signed as Twilio signs it. */
export async function postStatusCallback(
  url: string,
  authToken: string,
  report: { accountSid: string; sid: string; to: string; from: string | null; status: string },
): Promise<number> {
  const params: Record<string, string> = {
    AccountSid: report.accountSid,
    ApiVersion: '2010-04-01',
    MessageSid: report.sid,
    MessageStatus: report.status,
    SmsSid: report.sid,
    SmsStatus: report.status,
    To: report.to,
    ...(report.from === null ? {} : { From: report.from }),
  };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(authToken, url, params),
      },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(5000),
    });
    return response.status;
  } catch {
    return 0;
  }
}
