import type { FastifyBaseLogger } from 'fastify';

export type CaptchaProvider = 'turnstile' | 'hcaptcha' | 'recaptcha';

/** Each provider's server-side validation endpoint, used unless CAPTCHA_VERIFY_URL names another. */
export const SITEVERIFY_URLS: Record<CaptchaProvider, string> = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
  recaptcha: 'https://www.google.com/recaptcha/api/siteverify',
};

export interface SiteverifySettings {
  provider: CaptchaProvider;
  secret: string;
  url: string;
  timeoutMs: number;
  /** reCAPTCHA v3: a lower score fails the check. */
  minScore: number;
}

/**
 * What became of a token: `passed`; `failed` (the provider refused it: wrong, expired, already
 * used, or a reCAPTCHA score under the minimum); `unavailable` (no usable answer: unreachable, too
 * slow, an error status, a body that is not the protocol's, or a refusal of our request itself).
 */
export type SiteverifyVerdict = 'passed' | 'failed' | 'unavailable';

// Error codes about our request or the provider, not the visitor's token: a missing or wrong secret,
// a site key that is not the secret's, a malformed request, the provider's own failure. Every
// visitor would fail alike, so these count as an outage (503, logged) rather than as a failed check.
const NOT_ABOUT_THE_TOKEN = new Set([
  'missing-input-secret',
  'invalid-input-secret',
  'sitekey-secret-mismatch',
  'bad-request',
  'internal-error',
]);

interface SiteverifyAnswer {
  success: boolean;
  errorCodes: string[];
  score: number | undefined;
}

/** The fields of the protocol's JSON answer that matter here; undefined when `success` is not a boolean. */
function readAnswer(body: unknown): SiteverifyAnswer | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.success !== 'boolean') return undefined;
  const codes = fields['error-codes'];
  return {
    success: fields.success,
    errorCodes: Array.isArray(codes) ? codes.filter((code): code is string => typeof code === 'string') : [],
    score: typeof fields.score === 'number' ? fields.score : undefined,
  };
}

/**
 * Asks the provider about one token: a form-encoded POST of `secret`, `response` and `remoteip`,
 * as all three providers take it, answered with JSON. Never throws: anything but a clear answer
 * is `unavailable`, for the caller to refuse the request (fail closed). The token is never logged.
 */
export async function siteverify(
  settings: SiteverifySettings,
  token: string,
  remoteIp: string,
  log: FastifyBaseLogger,
): Promise<SiteverifyVerdict> {
  let answer: SiteverifyAnswer | undefined;
  try {
    const response = await fetch(settings.url, {
      method: 'POST',
      body: new URLSearchParams({ secret: settings.secret, response: token, remoteip: remoteIp }),
      // The bound covers reading the body too: a provider that sends headers and then stalls is as unavailable.
      signal: AbortSignal.timeout(settings.timeoutMs),
      // A redirect would re-send the secret to wherever it points; siteverify endpoints never redirect.
      redirect: 'error',
    });
    if (!response.ok) {
      await response.body?.cancel();
      log.warn({ captcha: { status: response.status } }, 'captcha: siteverify answered an error status');
      return 'unavailable';
    }
    answer = readAnswer(await response.json());
  } catch (error) {
    const { name, message } = error as Error;
    log.warn({ captcha: { error: name, message } }, 'captcha: siteverify unreachable, too slow or unreadable');
    return 'unavailable';
  }
  if (answer === undefined) {
    log.warn('captcha: siteverify answered without a boolean success');
    return 'unavailable';
  }
  if (!answer.success) {
    if (!answer.errorCodes.some((code) => NOT_ABOUT_THE_TOKEN.has(code))) return 'failed';
    log.error({ captcha: { errorCodes: answer.errorCodes } }, 'captcha: the provider refused our request itself');
    return 'unavailable';
  }
  // Only reCAPTCHA's score means "how likely a human" (1.0: very likely); hCaptcha Enterprise's
  // score is a risk score on its own scale, so it is not held against CAPTCHA_MIN_SCORE.
  if (settings.provider === 'recaptcha' && answer.score !== undefined && answer.score < settings.minScore) {
    return 'failed';
  }
  return 'passed';
}
