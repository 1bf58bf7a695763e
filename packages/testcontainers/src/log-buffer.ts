import type { Readable } from 'node:stream';

const LIMIT = 256 * 1024;

/** The output of one container, its last 256 KiB, collected from the moment it is created. */
export class LogBuffer {
  #text = '';

  /** For `withLogConsumer`. */
  readonly consume = (stream: Readable): void => {
    stream.on('data', (chunk: Buffer | string) => {
      this.#text += chunk.toString();
      if (this.#text.length > LIMIT) this.#text = this.#text.slice(-LIMIT);
    });
    stream.on('error', () => undefined);
  };

  text(): string {
    return this.#text;
  }

  tail(lines: number): string {
    return this.#text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
