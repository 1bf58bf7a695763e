import { type ErrorCode, PublicError } from '@otp/domain';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isDatabaseUnavailable, isHistoryPartitionMissing } from './unavailable.ts';

/** Sends a PublicError as application/problem+json (RFC 9457), with Retry-After when it has one. */
export function sendProblem(reply: FastifyReply, error: PublicError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  // RFC 6750: a 401 names the scheme the client should authenticate with.
  if (error.status === 401) reply.header('www-authenticate', error.wwwAuthenticate ?? 'Bearer');
  // Sent as a string: the problem body is the same whatever response schema the route declares.
  return reply
    .code(error.status)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(error.toProblem()));
}

const BY_FASTIFY_CODE: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
};

const BY_STATUS: Record<number, ErrorCode> = {
  404: 'not_found',
  413: 'body_too_large',
  415: 'unsupported_media_type',
};

/** Which field was wrong and how, from the validation error; never the submitted value. */
function validationDetail(error: FastifyError): string {
  const first = error.validation?.[0];
  const where = `${error.validationContext ?? 'request'}${(first?.instancePath ?? '').replaceAll('/', '.')}`;
  if (first === undefined) return `${where} is invalid`;
  if (first.keyword === 'additionalProperties') return `${where} must not have unknown properties`;
  return `${where} ${first.message ?? 'is invalid'}`;
}

/**
 * A write that referenced an account deleted meanwhile (a sign-in, refresh or event racing
 * DELETE /v1/me): Postgres refused it by the foreign key to `users` (SQLSTATE 23503 on a
 * `*_user_id_fkey` constraint) and nothing was written. The answer is a token of no account's.
 */
function isAccountGone(error: FastifyError): boolean {
  const constraint = (error as { constraint?: unknown }).constraint;
  return error.code === '23503' && typeof constraint === 'string' && constraint.endsWith('_user_id_fkey');
}

/**
 * Postgres aborted the transaction to break a deadlock (40P01) or a serialization conflict
 * (40001): nothing of it was written, and the same request sent again succeeds. Rare, e.g. a
 * refresh racing the deletion of its account; answered 503 with Retry-After, not a 500.
 */
function isTransactionConflict(error: FastifyError): boolean {
  return error.code === '40P01' || error.code === '40001';
}

/** Maps anything thrown while handling a request to the one error class clients see. */
export function toPublicError(error: FastifyError): PublicError {
  if (error instanceof PublicError) return error;
  if (Array.isArray(error.validation)) return new PublicError('validation_failed', { detail: validationDetail(error) });
  const byCode = error.code === undefined ? undefined : BY_FASTIFY_CODE[error.code];
  if (byCode !== undefined) return new PublicError(byCode);
  if (error instanceof SyntaxError && error.statusCode === 400) return new PublicError('malformed_body');
  if (isDatabaseUnavailable(error)) return new PublicError('service_unavailable', { retryAfterSeconds: 5 });
  if (isHistoryPartitionMissing(error)) return new PublicError('service_unavailable', { retryAfterSeconds: 60 });
  if (isAccountGone(error)) return new PublicError('unauthorized', { detail: 'the account no longer exists' });
  if (isTransactionConflict(error)) return new PublicError('service_unavailable', { retryAfterSeconds: 1 });
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new PublicError(BY_STATUS[status] ?? 'validation_failed');
  return new PublicError('internal_error');
}

// Only these fields are logged: driver errors can carry row values (a unique violation's
// `detail` names the conflicting address), which must not reach a log line.
function loggable(error: FastifyError) {
  return { type: error.name, message: error.message, code: error.code, stack: error.stack };
}

/** One error handler and one not-found handler for the whole app: everything is problem+json. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toPublicError(error);
    if (problem.code === 'internal_error') request.log.error({ err: loggable(error) }, 'unhandled error');
    else if (problem.code === 'service_unavailable')
      request.log.warn({ err: loggable(error) }, 'dependency unavailable');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, new PublicError('not_found')));
}
