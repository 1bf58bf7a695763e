import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevOutboxSmsSender } from './dev-outbox.sender.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'otp-outbox-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dev outbox SMS sender', () => {
  it('writes a .txt file with a To: line and the body, and logs one line naming the challenge and request, without the code or number', async () => {
    const lines: string[] = [];
    const log = pino(
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const challengeId = '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11';
    const text = 'Your OTP code is 583920. It expires in 10 minutes. Do not share it.\n\n@localhost #583920';

    await createDevOutboxSmsSender({ dir, log }).send({
      channel: 'sms',
      to: '+14155550123',
      toMasked: '+*******0123',
      challengeId,
      sendNumber: 1,
      requestId: 'req-42',
      text,
    });

    const files = await readdir(join(dir, 'sms'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`-${challengeId}-1\\.txt$`));
    expect(await readFile(join(dir, 'sms', files[0] as string), 'utf8')).toBe(`To: +14155550123\n\n${text}\n`);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      toMasked: '+*******0123',
      challengeId,
      requestId: 'req-42',
      msg: 'sms written to the dev outbox',
    });
    expect(lines[0]).not.toContain('583920');
    expect(lines[0]).not.toContain('4155550123');
  });
});
