// The delivery bench's bare equivalent of one email worker: only the essential work of a send,
// a nodemailer pooled SMTP transport configured as the worker's (smtp.sender.ts: pool on,
// nodemailer's default maxConnections 5 and maxMessages 100, the same timeouts), `CONCURRENCY`
// sends in flight like the worker's job concurrency, a code email of the same shape (subject,
// text and HTML parts of the sizes the catalogue renders, the worker's headers). No queue, no
// Postgres, no templates.
//   GET  /health/ready                 200 once listening
//   POST /send?count=N&tag=T           sends N messages to T-<i>@bench.example.com, answers when all are sent
// Env: SMTP_URL, BARE_MAIL_PORT, CONCURRENCY (10), MAIL_FROM.
import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import nodemailer from 'nodemailer';

const concurrency = Number(process.env.CONCURRENCY ?? 10);
const port = Number(process.env.BARE_MAIL_PORT ?? 3914);
const transport = nodemailer.createTransport(
  {
    pool: true,
    url: process.env.SMTP_URL,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    debug: false,
    logger: false,
  },
  { from: process.env.MAIL_FROM ?? 'OTP <no-reply@otp.local>' },
);

const product = 'OTP';
const text = (code: string) =>
  `Use this code to sign in to ${product}:\n\n${code}\n\nThe code is valid for 10 minutes.\n\nNever share this code. ${product} will never ask you for it.\n\nIf you did not ask for this, ignore this email: nobody can sign in without the code.\n`;
const p = 'margin:0 0 16px';
const html = (code: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Your ${product} sign-in code</title></head>\n<body style="margin:0;padding:0;background:#ffffff">\n<div style="max-width:560px;margin:0 auto;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222222">\n<p style="${p}">Use this code to sign in to ${product}:</p>\n<p style="${p};font-size:32px;font-weight:bold;letter-spacing:6px;font-family:monospace;color:#222222">${code}</p>\n<p style="${p}">The code is valid for 10 minutes.</p>\n<p style="${p}">Never share this code. ${product} will never ask you for it.</p>\n<p style="margin:0;color:#666666;font-size:13px">If you did not ask for this, ignore this email: nobody can sign in without the code.</p>\n</div>\n</body></html>`;

async function sendOne(to: string): Promise<void> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await transport.sendMail({
    to,
    subject: `Your ${product} sign-in code`,
    text: text(code),
    html: html(code),
    headers: {
      'X-OTP-Challenge-Id': randomUUID(),
      'X-OTP-Send-Number': '1',
      'Auto-Submitted': 'auto-generated',
      'Content-Language': 'en',
    },
  });
}

/** `count` sends, `concurrency` at a time; returns how many the server accepted. */
async function sendAll(count: number, tag: string): Promise<number> {
  let next = 0;
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        try {
          await sendOne(`${tag}-${i}@bench.example.com`);
          sent += 1;
        } catch {
          // counted as missing by the bench
        }
      }
    }),
  );
  return sent;
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://bare');
  if (url.pathname === '/health/ready') {
    response.end('ok');
    return;
  }
  if (request.method === 'POST' && url.pathname === '/send') {
    sendAll(Number(url.searchParams.get('count') ?? 0), url.searchParams.get('tag') ?? 'bare').then((sent) =>
      response.end(JSON.stringify({ sent })),
    );
    return;
  }
  response.statusCode = 404;
  response.end();
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  transport.close();
  server.close();
});
