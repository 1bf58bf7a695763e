import { randomUUID } from 'node:crypto';
import { type Database, findNoticeAddress, insertNotice, type Kysely } from '@otp/db';
import {
  isNoticeJobData,
  isNoticeSecret,
  maskEmail,
  maskPhone,
  NOTICE_JOB_VERSION,
  type NoticeFacts,
  type NoticeTemplate,
  noticeEnvelopeContext,
  noticeJobId,
  seal,
} from '@otp/domain';
import type { GatewayDeps } from '../deps.ts';
import { now } from '../deps.ts';
import { clientNetwork } from '../http/client-network.ts';

/** What the event tells a notice: who, which event's details, and where the request came from. */
export interface NoticeRequest {
  template: NoticeTemplate;
  userId: string;
  details: Record<string, unknown>;
  ip: string;
  userAgent: string | null;
  requestId: string;
  traceparent?: string | undefined;
}

/** Sends security notices through the outbox; recordEvent is its one caller. */
export interface NoticeSender {
  /**
   * Writes the notice (a `notifications` row and its outbox row) on `trx`, the transaction of the
   * event that causes it. Returns false, writing nothing, when the account has no verified email.
   */
  write(trx: Kysely<Database>, request: NoticeRequest): Promise<boolean>;
  /** After the commit: the relay picks the notice up now rather than at its next tick. */
  nudge(): void;
}

const FACTOR_KINDS = ['totp', 'hotp'] as const;
const CHANGES = ['enrolled', 'enabled', 'removed'] as const;
const PASSWORD_CHANGES = ['first', 'change', 'reset'] as const;
const oneOf = <T extends string>(values: readonly T[], value: unknown): T | undefined =>
  values.includes(value as T) ? (value as T) : undefined;

/**
 * What the template shows, and only that: the time, the factor and its change, the new phone
 * masked, the device and its network for a new sign-in. Taken field by field, never by copying
 * the details, so nothing an event adds later (a code, a token) can slip into a message.
 */
export function noticeFacts(request: NoticeRequest, at: Date, phone: string | null): NoticeFacts {
  const facts: NoticeFacts = { at: at.toISOString() };
  if (request.template === 'factor-changed') {
    const factorKind = oneOf(FACTOR_KINDS, request.details.kind);
    const change = oneOf(CHANGES, request.details.change);
    if (factorKind !== undefined) facts.factorKind = factorKind;
    if (change !== undefined) facts.change = change;
  }
  if (request.template === 'password-changed') {
    const how = oneOf(PASSWORD_CHANGES, request.details.how);
    const revoked = request.details.sessionsRevoked;
    if (how !== undefined) facts.how = how;
    if (typeof revoked === 'number' && Number.isInteger(revoked) && revoked >= 0) facts.sessionsRevoked = revoked;
  }
  if (request.template === 'phone-changed' && phone !== null) facts.phoneMasked = maskPhone(phone);
  if (request.template === 'email-changed') {
    // Masked by the caller (never a full address in the details); checked again by the contract.
    const masked = request.details.emailMasked;
    if (typeof masked === 'string') facts.emailMasked = masked;
  }
  if (request.template === 'new-sign-in') {
    if (request.userAgent !== null) facts.userAgent = request.userAgent.slice(0, 512);
    facts.network = clientNetwork(request.ip);
  }
  return facts;
}

export function createNoticeSender(deps: Pick<GatewayDeps, 'keys' | 'catalogue' | 'relay' | 'clock'>): NoticeSender {
  return {
    async write(trx, request) {
      const address = await findNoticeAddress(trx, request.userId);
      // No verified address, no notice: an unverified one may not be the owner's.
      if (address?.email == null) return false;
      const id = randomUUID();
      const at = now(deps);
      const secret = { to: address.email, facts: noticeFacts(request, at, address.phone) };
      // The producer checks the contract too: a bad payload fails here, not in a worker.
      if (!isNoticeSecret(secret)) throw new Error('notice secret does not match the contract');
      // Typed by the check below: the version follows the template (NOTICE_JOB_VERSION).
      const jobData: unknown = {
        v: NOTICE_JOB_VERSION[request.template],
        kind: 'notice',
        notificationId: id,
        template: request.template,
        channel: 'email',
        // The account's language (its last sign-in's), through the catalogue: one since removed
        // from it falls back to its closest, else DEFAULT_LOCALE, as does an account without one.
        locale: deps.catalogue.localeOf(address.locale),
        toMasked: maskEmail(address.email),
        requestedAt: at.toISOString(),
        requestId: request.requestId,
        ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
        envelope: seal(deps.keys.envelopes, secret, noticeEnvelopeContext(id)),
      };
      if (!isNoticeJobData(jobData)) throw new Error('notice job data does not match the queue contract');
      await insertNotice(
        trx,
        { id, user_id: request.userId, template: request.template },
        { channel: 'email', job_id: noticeJobId(id), job_data: JSON.stringify(jobData) },
      );
      return true;
    },
    nudge: () => deps.relay.nudge(),
  };
}
