import type { DeliveryError } from '../delivery.error.ts';
import type { DeliverySender, OutgoingMessage, SendResult } from '../sender.port.ts';

export interface RecordingSender extends DeliverySender {
  /** Every message the sender accepted, in order. */
  readonly sent: OutgoingMessage[];
  /** How many times `send` was called, failures included. */
  readonly calls: number;
  /** The next calls throw these errors, in order. */
  failNext(...errors: DeliveryError[]): void;
}

/** A fake sender for pipeline tests: records what it is given and fails when told to. */
export function createRecordingSender(provider = 'fake'): RecordingSender {
  const sent: OutgoingMessage[] = [];
  const failures: DeliveryError[] = [];
  let calls = 0;
  return {
    provider,
    sent,
    get calls() {
      return calls;
    },
    failNext(...errors) {
      failures.push(...errors);
    },
    async send(message): Promise<SendResult> {
      calls += 1;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      sent.push(message);
      return { providerMessageId: `fake-${calls}` };
    },
  };
}
