import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@otp/runtime';
import { DeliveryError } from './delivery.error.ts';
import type { OutgoingMessage } from './sender.port.ts';

export interface DevOutboxWrite {
  /** The outbox root (absolute); files go to `<dir>/<channel>/`. */
  dir: string;
  message: OutgoingMessage;
  extension: 'eml' | 'txt';
  content: string | Buffer;
  log: Logger;
}

/**
 * `<ISO time>-<challengeId>-<sendNumber>.<ext>` (a notice: `<ISO time>-notice-<notificationId>`):
 * sorts by time, names the send, no colons.
 */
export function devOutboxFileName(message: OutgoingMessage, extension: string): string {
  const time = new Date().toISOString().replaceAll(':', '-');
  if (message.notificationId !== undefined) return `${time}-notice-${message.notificationId}.${extension}`;
  return `${time}-${message.challengeId}-${message.sendNumber}.${extension}`;
}

/**
 * Development delivery when no provider is configured: the message becomes a file, and one log
 * line says where (with the masked recipient, never the code). Returns the file's path.
 */
export async function writeToDevOutbox(write: DevOutboxWrite): Promise<string> {
  const folder = join(write.dir, write.message.channel);
  const path = join(folder, devOutboxFileName(write.message, write.extension));
  try {
    await mkdir(folder, { recursive: true });
    await writeFile(path, write.content);
  } catch (error) {
    throw new DeliveryError('temporary', 'dev_outbox_write', { detail: (error as { code?: string }).code });
  }
  write.log.info(
    {
      path,
      toMasked: write.message.toMasked,
      challengeId: write.message.challengeId,
      notificationId: write.message.notificationId,
      requestId: write.message.requestId,
    },
    `${write.message.channel} written to the dev outbox`,
  );
  return path;
}
