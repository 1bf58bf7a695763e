import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseMail } from '@otp/testkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevOutboxEmailSender } from './dev-outbox.sender.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'otp-outbox-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dev outbox email sender', () => {
  it('writes the full message as an .eml file and logs one line without the code or address', async () => {
    const lines: string[] = [];
    const log = pino(
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const sender = createDevOutboxEmailSender({ dir, from: 'OTP <no-reply@otp.local>', log });
    const challengeId = '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11';

    const result = await sender.send({
      channel: 'email',
      to: 'ada@example.com',
      toMasked: 'a***@example.com',
      challengeId,
      sendNumber: 2,
      subject: 'Your OTP sign-in code',
      text: 'Use this code: 583920',
      html: '<p>Use this code: <b>583920</b></p>',
    });

    const files = await readdir(join(dir, 'email'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+\\.\\d{3}Z-${challengeId}-2\\.eml$`));
    const mail = await parseMail(await readFile(join(dir, 'email', files[0] as string)));
    expect(mail.subject).toBe('Your OTP sign-in code');
    expect(mail.text).toContain('583920');
    expect(mail.html).toContain('583920');
    expect(mail.headers['x-otp-challenge-id']).toBe(challengeId);
    expect(mail.headers.to).toBe('ada@example.com');
    expect(mail.headers['message-id']).toBe(result.providerMessageId);

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      path: join(dir, 'email', files[0] as string),
      toMasked: 'a***@example.com',
    });
    expect(lines[0]).not.toContain('583920');
    expect(lines[0]).not.toContain('ada@example.com');
  });
});
