// The delivery bench's bare equivalent of one email worker: only the essential work of a send,
// a nodemailer pooled SMTP transport configured as the worker's, `CONCURRENCY` sends in flight
// like the worker's job concurrency, a code email of the same shape (code-email.ts). No queue, no
// Postgres, no templates.
//   GET  /health/ready                 200 once listening
//   POST /send?count=N&tag=T           sends N messages to T-<i>@bench.example.com, answers when all are sent
// Env: SMTP_URL, BARE_MAIL_PORT, CONCURRENCY (10), MAIL_FROM.
import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import { codeEmail, codeEmailTransport } from './code-email.ts';

const concurrency = Number(process.env.CONCURRENCY ?? 10);
const port = Number(process.env.BARE_MAIL_PORT ?? 3914);
const transport = codeEmailTransport(process.env.SMTP_URL);

async function sendOne(to: string): Promise<void> {
  await transport.sendMail(codeEmail(to, String(randomInt(0, 1_000_000)).padStart(6, '0')));
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
