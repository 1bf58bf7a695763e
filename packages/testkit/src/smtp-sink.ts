import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { maskEmail } from '@otp/domain';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** The readable parts of a message. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
  /** Header lines by lower-cased name (the last one wins when repeated). */
  headers: Record<string, string>;
}

export interface ReceivedMail extends MailContent {
  /** Envelope recipients (RCPT TO), as the server received them. */
  to: string[];
  /** Envelope sender (MAIL FROM). */
  from: string;
}

export interface WaitForMailOptions {
  timeoutMs?: number;
  /** Only consider mail received after the first `after` messages (pass `sink.messages.length`). */
  after?: number;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:PORT`, ready for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  waitForMail(to: string, options?: WaitForMailOptions): Promise<ReceivedMail>;
  /** Rejects the next `count` messages with `responseCode` at DATA (default) or at RCPT TO. */
  failNext(count: number, responseCode: number, stage?: 'data' | 'rcpt'): void;
  /** The next `count` messages are read but never answered: the client hangs (a crash test's victim). */
  hangNext(count: number): void;
  /** Messages the sink left hanging so far. */
  readonly hung: number;
  close(): Promise<void>;
}

function smtpError(responseCode: number): Error {
  const error = new Error(responseCode >= 500 ? 'Rejected by the test sink' : 'Try again later (test sink)');
  return Object.assign(error, { responseCode });
}

/** Parses a raw message (what the sink receives, or a dev-outbox `.eml` file) with mailparser. */
export async function parseMail(source: Buffer | string | Readable): Promise<MailContent> {
  const parsed = await simpleParser(source);
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) headers[key.toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  return {
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html === false ? '' : parsed.html,
    headers,
  };
}

/**
 * A real SMTP server (the `smtp-server` package) on a random loopback port that keeps every
 * message it accepts, parsed with mailparser, and can be told to reject the next messages.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const arrivals = new EventEmitter();
  const failures: Array<{ responseCode: number; stage: 'data' | 'rcpt' }> = [];

  let hangs = 0;
  let hung = 0;
  const takeFailure = (stage: 'data' | 'rcpt') => {
    if (failures[0]?.stage !== stage) return undefined;
    return failures.shift();
  };

  async function receive(stream: Readable, session: SMTPServerSession): Promise<void> {
    const content = await parseMail(stream);
    const mailFrom = session.envelope.mailFrom;
    messages.push({
      to: session.envelope.rcptTo.map((recipient) => recipient.address),
      from: mailFrom === false ? '' : mailFrom.address,
      ...content,
    });
    arrivals.emit('mail');
  }

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1000,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
    onRcptTo: (_address, _session, callback) => {
      const failure = takeFailure('rcpt');
      callback(failure === undefined ? null : smtpError(failure.responseCode));
    },
    onData: (stream, session, callback) => {
      if (hangs > 0) {
        hangs -= 1;
        hung += 1;
        stream.resume(); // read it all, never answer: the message is not accepted
        return;
      }
      const failure = takeFailure('data');
      if (failure !== undefined) {
        stream.on('end', () => callback(smtpError(failure.responseCode)));
        stream.resume();
        return;
      }
      receive(stream, session).then(() => callback(null), callback);
    },
  });
  // smtp-server reports on the server a client that vanished mid-transaction (after MAIL FROM),
  // such as a worker a test killed while it was sending (its socket reset: ECONNRESET). Without
  // a listener that 'error' event is an uncaught exception in the test process. The message was
  // not accepted, so the client retries it: nothing to do here.
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext(count, responseCode, stage = 'data') {
      for (let i = 0; i < count; i++) failures.push({ responseCode, stage });
    },
    hangNext(count) {
      hangs += count;
    },
    get hung() {
      return hung;
    },
    async waitForMail(to, options = {}) {
      const wanted = to.toLowerCase();
      const find = () =>
        messages.slice(options.after ?? 0).find((mail) => mail.to.some((address) => address.toLowerCase() === wanted));
      const found = find();
      if (found !== undefined) return found;
      return new Promise<ReceivedMail>((resolve, reject) => {
        const onMail = () => {
          const mail = find();
          if (mail === undefined) return;
          clearTimeout(timer);
          arrivals.off('mail', onMail);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          arrivals.off('mail', onMail);
          reject(new Error(`no mail for ${maskEmail(to)} within ${options.timeoutMs ?? 10_000} ms`));
        }, options.timeoutMs ?? 10_000);
        arrivals.on('mail', onMail);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
