import type { Channel, Purpose } from '@otp/domain';

/** One message ready for a provider: the address in clear, the rendered content, and what it belongs to. */
export interface OutgoingMessage {
  readonly channel: Channel;
  /** The normalised address, opened from the envelope. Never log it; log `toMasked`. */
  readonly to: string;
  readonly toMasked: string;
  readonly challengeId: string;
  readonly sendNumber: number;
  /** The gateway request that asked for the code, for log lines about this message. */
  readonly requestId?: string;
  /** Email only. */
  readonly subject?: string;
  readonly text: string;
  /** Email only. */
  readonly html?: string;
}

export interface SendResult {
  /** The provider's id for the accepted message (SMTP Message-ID, Twilio SID), when it gives one. */
  providerMessageId: string | null;
}

/**
 * The port every channel adapter implements (nodemailer, twilio, the dev outbox, a recording fake
 * in tests). An adapter turns every failure into a DeliveryError: the pipeline decides what a
 * failure means for the job from its `kind`, never from provider text.
 */
export interface DeliverySender {
  /** Recorded on each attempt row, e.g. `smtp`, `twilio`, `dev-outbox`. */
  readonly provider: string;
  send(message: OutgoingMessage): Promise<SendResult>;
  /** Releases pooled connections; called once when the worker closes. */
  close?(): Promise<void>;
}

/** What a template gets: the code in clear plus what the message should say about it. */
export interface TemplateInput {
  readonly code: string;
  readonly purpose: Purpose;
  readonly locale: string;
  readonly expiresAt: Date;
  readonly now: Date;
}

export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
}

/** A channel's template for the `otp-code` job template. */
export type MessageRenderer = (input: TemplateInput) => RenderedMessage;
