import { type Channel, PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../deps.ts';
import type { CaptchaOutcome, GatewayMetrics } from '../ops/gateway.metrics.ts';
import { SITEVERIFY_URLS, type SiteverifySettings, siteverify } from './captcha.siteverify.ts';
import type { RateLimitHooks } from './rate-limit.plugin.ts';

/** Whether some counter of the caller's is past half its limit (adaptive mode asks for the check then). */
export type PressureProbe = () => Promise<boolean>;

/** What a covered route tells the human check about its request. */
export interface HumanCheckRequest {
  /** The body's `captchaToken`; empty counts as missing (an unsolved widget gives an empty string). */
  token: string | undefined;
  /** The channel of the message the request would send: mode `sms` checks only SMS (registration sends an email). */
  sends: Channel;
  /**
   * Adaptive mode: the SMS number range and country counters' probe, asked when the client's own
   * counter is not past half its limit. For the SMS limits to pass in; none is passed yet.
   */
  smsPressure?: PressureProbe;
}

/**
 * The human check of an anonymous request that would send a message (POST /v1/otp/challenges,
 * POST /v1/auth/register): returns when the request may go on, throws a PublicError when not.
 * Routes call it first thing in the handler, after schema validation and before any work.
 */
export type HumanCheck = (request: FastifyRequest, covered: HumanCheckRequest) => Promise<void>;

/** When to ask again after siteverify could not be used. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const noCheck: HumanCheck = async () => {};

/**
 * The check as CAPTCHA_* configure it. Without CAPTCHA_PROVIDER nothing changes at all: no
 * request is checked and `captchaToken` is ignored. Fails closed: a provider that cannot be
 * asked, or (adaptive mode) counters that cannot be read, never let a request through unchecked.
 */
export function createHumanCheck(
  deps: Pick<GatewayDeps, 'config'> & { metrics: Pick<GatewayMetrics, 'captchaCheck'> },
  limits: Pick<RateLimitHooks, 'codeRequestsUsed'>,
): HumanCheck {
  const { config, metrics } = deps;
  const provider = config.CAPTCHA_PROVIDER;
  if (provider === undefined) return noCheck;
  if (config.CAPTCHA_SECRET === undefined) throw new Error('CAPTCHA_SECRET is required with CAPTCHA_PROVIDER');
  const settings: SiteverifySettings = {
    provider,
    secret: config.CAPTCHA_SECRET,
    url: config.CAPTCHA_VERIFY_URL ?? SITEVERIFY_URLS[provider],
    timeoutMs: config.CAPTCHA_TIMEOUT_MS,
    minScore: config.CAPTCHA_MIN_SCORE,
  };
  const mode = config.CAPTCHA_MODE ?? 'always';

  /** Adaptive mode: the client network's code requests past half the per-minute limit, or the caller's probe says so. */
  async function underPressure(request: FastifyRequest, probe: PressureProbe | undefined): Promise<boolean> {
    try {
      const { used, max } = await limits.codeRequestsUsed(request);
      if (used * 2 > max) return true;
      return probe === undefined ? false : await probe();
    } catch (error) {
      // Not knowing counts as pressure: asking a human for a check is better than letting a flood
      // through unchecked while Redis (or the probe's store) is away.
      request.log.warn({ captcha: { message: (error as Error).message } }, 'captcha: pressure unknown, asking');
      return true;
    }
  }

  async function judge(request: FastifyRequest, token: string | undefined): Promise<CaptchaOutcome> {
    if (token === undefined || token === '') return 'required';
    return siteverify(settings, token, request.ip, request.log);
  }

  return async (request, covered) => {
    if (mode === 'sms' && covered.sends !== 'sms') return;
    if (mode === 'adaptive' && !(await underPressure(request, covered.smsPressure))) return;
    const outcome = await judge(request, covered.token);
    metrics.captchaCheck(outcome);
    if (outcome === 'required') throw new PublicError('captcha_required');
    if (outcome === 'failed') throw new PublicError('captcha_failed');
    if (outcome === 'unavailable') {
      throw new PublicError('service_unavailable', {
        detail: 'The human check could not be made',
        retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
      });
    }
  };
}
