import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink?.close();
});

/** A raw SMTP client: `command` writes a line and resolves with the server's next reply. */
async function smtpClient(): Promise<{ socket: Socket; command(line: string): Promise<string> }> {
  const socket = connect(Number(new URL(sink.url).port), '127.0.0.1');
  socket.setEncoding('utf8');
  const replies: string[] = [];
  let waiting: ((reply: string) => void) | undefined;
  socket.on('data', (chunk: string) => {
    replies.push(chunk);
    waiting?.(replies.shift() as string);
    waiting = undefined;
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const reply = replies.shift();
      if (reply === undefined) waiting = resolve;
      else resolve(reply);
    });
  await once(socket, 'connect');
  await next(); // the greeting
  return {
    socket,
    command(line) {
      socket.write(`${line}\r\n`);
      return next();
    },
  };
}

describe('the SMTP sink', () => {
  it('takes a client that resets its connection mid-message in its stride', async () => {
    const dying = await smtpClient();
    for (const line of ['EHLO worker', 'MAIL FROM:<otp@example.com>', 'RCPT TO:<lost@example.com>']) {
      expect(await dying.command(line)).toMatch(/^250/);
    }
    expect(await dying.command('DATA')).toMatch(/^354/);
    dying.socket.write('Subject: half a message\r\n\r\nThe code is');
    // A worker killed mid-send: its socket is reset, which smtp-server reports as an error.
    dying.socket.resetAndDestroy();

    const next = await smtpClient();
    for (const line of ['EHLO worker', 'MAIL FROM:<otp@example.com>', 'RCPT TO:<kept@example.com>']) {
      await next.command(line);
    }
    await next.command('DATA');
    expect(await next.command('Subject: whole\r\n\r\nThe code is 123456\r\n.')).toMatch(/^250/);
    next.socket.end();

    expect((await sink.waitForMail('kept@example.com')).subject).toBe('whole');
    expect(sink.messages.map((mail) => mail.to)).toEqual([['kept@example.com']]);
  });
});
