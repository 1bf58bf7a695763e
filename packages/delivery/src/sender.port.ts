import type { Channel, DeliveryTemplate, NoticeFacts, NoticeTemplate, Purpose } from '@otp/domain';

/** One message ready for a provider: the address in clear, the rendered content, and what it belongs to. */
export interface OutgoingMessage {
  readonly channel: Channel;
  /** The normalised address, opened from the envelope. Never log it; log `toMasked`. */
  readonly to: string;
  readonly toMasked: string;
  /** The send it is (a code or account-exists message); unset on a security notice. */
  readonly challengeId?: string;
  readonly sendNumber?: number;
  /** The security notice it is (`notifications.id`); unset on a send of a challenge. */
  readonly notificationId?: string;
  /** The gateway request that asked for the code, for log lines about this message. */
  readonly requestId?: string;
  /** Email only. */
  readonly subject?: string;
  readonly text: string;
  /** Email only. */
  readonly html?: string;
  /** What the message is for: the code's purpose (`login`...), or the notice's template name. */
  readonly purpose?: string;
  /** The catalogue locale the message is written in (an email says it in Content-Language). */
  readonly locale?: string;
}

export interface SendResult {
  /** The provider's id for the accepted message (SMTP Message-ID, Twilio SID), when it gives one. */
  providerMessageId: string | null;
  /**
   * The provider that took the message, when the sender is a chain of several
   * (provider-chain.ts); a single sender leaves it unset and the pipeline records its `provider`.
   */
  provider?: string;
}

/** What the pipeline tells a sender about one send besides the message. */
export interface SendContext {
  /** Whether the operator switched this provider off (`provider:<name>`), as the worker last read. */
  isSwitchedOff?(provider: string): boolean;
}

/**
 * The port every channel adapter implements (nodemailer, twilio, the dev outbox, a recording fake
 * in tests). An adapter turns every failure into a DeliveryError: the pipeline decides what a
 * failure means for the job from its `kind`, never from provider text.
 */
export interface DeliverySender {
  /**
   * Recorded on each attempt row, e.g. `smtp`, `twilio`, `dev-outbox`; a chain's is its providers'
   * names joined with `,` (each send's own provider comes in its SendResult or DeliveryError).
   */
  readonly provider: string;
  /** A chain's providers, in the order it tries them; unset on a single sender (its `provider`). */
  readonly providers?: readonly string[];
  send(message: OutgoingMessage, context?: SendContext): Promise<SendResult>;
  /** Releases pooled connections; called once when the worker closes. */
  close?(): Promise<void>;
}

/** What each job template gets to render its message. */
export interface TemplateInputs {
  /** The code in clear plus what the message should say about it. */
  'otp-code': {
    readonly code: string;
    readonly purpose: Purpose;
    readonly locale: string;
    readonly expiresAt: Date;
    readonly now: Date;
  };
  /** No code: the message only says how to sign in or reset the password. */
  'account-exists': { readonly locale: string };
  /** No code: a password reset for an address without a verified account. */
  'reset-no-account': { readonly locale: string };
}

export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
  /** The catalogue locale it was written in (the job's, or where it fell back to): recorded on the send. */
  locale?: string;
}

/** A channel's template for one job template (`otp-code` unless named). */
export type MessageRenderer<T extends DeliveryTemplate = 'otp-code'> = (input: TemplateInputs[T]) => RenderedMessage;

/**
 * A worker's templates. Every channel renders codes; a job asking for a template its worker has
 * no renderer for (`account-exists` on the SMS queue: registration is email only) is an invalid
 * payload.
 */
export interface MessageRenderers {
  'otp-code': MessageRenderer<'otp-code'>;
  'account-exists'?: MessageRenderer<'account-exists'>;
  'reset-no-account'?: MessageRenderer<'reset-no-account'>;
  /** Security notices (email only): a worker without them fails a notice job as `invalid_payload`. */
  notices?: NoticeRenderers;
}

/** What a notice template gets: what happened (the facts opened from the envelope) and the locale. */
export interface NoticeInput {
  readonly locale: string;
  readonly facts: NoticeFacts;
}

/** One renderer per security notice; never a code in any of them. */
export type NoticeRenderers = Record<NoticeTemplate, (input: NoticeInput) => RenderedMessage>;
