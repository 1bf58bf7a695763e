import type { PublicError } from '@otp/domain';
import type { FastifyReply } from 'fastify';

/** Answers a PublicError as the gateway does: its status, Retry-After when it has one, problem+json. */
export function sendProblem(reply: FastifyReply, error: PublicError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.status).type('application/problem+json').send(error.toProblem());
}
