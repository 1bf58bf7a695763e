import type { components } from './api.generated.ts';

export type Problem = components['schemas']['Problem'];
/** Every error code the API answers with (docs/api.md). */
export type ErrorCode = Problem['code'];

/**
 * An answer that is not a success: the problem details (RFC 9457) the API sent, with its stable
 * `code` to branch on. `retryAfterSeconds` is set on 429 and 503 answers.
 */
export class OtpApiError extends Error {
  readonly status: number;
  /** The API's code; `not_signed_in` when a call needs tokens the client does not have. */
  readonly code: ErrorCode | 'not_signed_in' | 'unexpected_answer';
  readonly problem: Problem | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, problem: Problem | undefined, retryAfter: string | null = null) {
    super(problem === undefined ? `HTTP ${status}` : `${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = 'OtpApiError';
    this.status = status;
    this.code = problem?.code ?? 'unexpected_answer';
    this.problem = problem;
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    this.retryAfterSeconds = Number.isFinite(seconds) ? seconds : undefined;
  }
}

/** A call that needs the user's tokens, made while the client has none (signed out). */
export function notSignedIn(): OtpApiError {
  const error = new OtpApiError(401, undefined);
  (error as { code: OtpApiError['code'] }).code = 'not_signed_in';
  return error;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}

/** The data of an openapi-fetch answer, or the OtpApiError its problem describes. */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.response.ok && answer.error === undefined) return answer.data as T;
  const problem = isProblem(answer.error) ? answer.error : undefined;
  throw new OtpApiError(answer.response.status, problem, answer.response.headers.get('retry-after'));
}
