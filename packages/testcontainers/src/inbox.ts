/** A code message that reached one of the stack's inboxes (MailDev or the SMS inbox). */
export interface DeliveredMessage {
  /** MailDev's email id or the SMS inbox's message SID. */
  id: string;
  code: string | undefined;
}

interface MailDevEmail {
  id: string;
  text?: string;
  to?: Array<{ address: string }>;
}

interface InboxSms {
  sid: string;
  to: string;
  body: string;
}

/** Email recipients are compared as the gateway normalises them: trimmed, case-insensitively. */
function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Phone numbers are compared digits only, so `+1 415 555 0100` finds `+14155550100`. */
function samePhone(a: string, b: string): boolean {
  return a.replace(/[^\d]/g, '') === b.replace(/[^\d]/g, '');
}

/**
 * The code in an email's text: the first run of exactly `codeLength` digits (the template names
 * no other number that long).
 */
export function codeInEmail(text: string, codeLength: number): string | undefined {
  return new RegExp(`(?<!\\d)(\\d{${codeLength}})(?!\\d)`).exec(text)?.[1];
}

/** The code in an SMS: the WebOTP line that ends every message (`@domain #123456`). */
export function codeInSms(body: string): string | undefined {
  return /#(\d+)\s*$/.exec(body)?.[1];
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Messages to `to` in the order they arrived; email when `to` holds an @, SMS otherwise. */
export async function messagesTo(
  to: string,
  inboxes: { mailDevUrl: string; smsInboxUrl: string; codeLength: number },
): Promise<DeliveredMessage[]> {
  if (to.includes('@')) {
    const emails = await getJson<MailDevEmail[]>(`${inboxes.mailDevUrl}/email`);
    return emails
      .filter((email) => (email.to ?? []).some((recipient) => sameEmail(recipient.address, to)))
      .map((email) => ({ id: email.id, code: codeInEmail(email.text ?? '', inboxes.codeLength) }));
  }
  const messages = await getJson<InboxSms[]>(`${inboxes.smsInboxUrl}/messages`);
  return messages
    .filter((message) => samePhone(message.to, to))
    .map((message) => ({ id: message.sid, code: codeInSms(message.body) }));
}
