import { trustProxySetting } from '@otp/domain';
import { type FastifyBaseLogger, type FastifyServerOptions, LogController } from 'fastify';
import type { GatewayConfig } from '../config.ts';
import { requestIdFor } from './request-id.ts';
import { ANSWER_FORMATS, REQUEST_FORMATS } from './schemas.ts';

/**
 * The options both of the gateway's Fastify apps (the public API, app.ts, and the admin API,
 * admin/admin.app.ts) are created with, so they read requests and write answers alike.
 */
export function gatewayFastifyOptions(config: GatewayConfig, log: FastifyBaseLogger): FastifyServerOptions {
  return {
    loggerInstance: log,
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // X-Forwarded-For is believed only when the socket peer is one of the named proxies.
    trustProxy: trustProxySetting(config.TRUST_PROXY),
    bodyLimit: config.BODY_LIMIT_BYTES,
    ajv: {
      // Reject rather than repair: unknown properties fail (not stripped) and types are not
      // coerced, so `{"code": 123456}` is a 400 like any other wrong type. An email address is
      // checked by the rules that normalise it (`idn-email`, http/schemas.ts).
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
        formats: REQUEST_FORMATS,
      },
    },
    serializerOpts: { ajv: { formats: ANSWER_FORMATS } },
  };
}
