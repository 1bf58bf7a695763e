import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listEnabledFactors } from '@otp/db';
import { PublicError } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import { requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import { checkFactorProof } from './factor.check.service.ts';
import { BEARER_PROBLEMS, CodeBody, RecoveryCodes } from './factors.schemas.ts';
import { issueRecoveryCodes } from './recovery-codes.ts';

/** POST /v1/me/recovery-codes: a new set for a valid authenticator code; the old set stops working. */
export const recoveryCodeRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  app.post(
    '/me/recovery-codes',
    {
      schema: {
        tags: ['factors'],
        summary: 'Replace the recovery codes (needs a code of an enabled factor)',
        security: BEARER_SECURITY,
        body: CodeBody,
        response: { 200: Type.Object({ recoveryCodes: RecoveryCodes }), ...BEARER_PROBLEMS },
      },
      onRequest: limits.verifications,
      preHandler: [authenticate(deps), requireRecentSignIn(deps, 'recovery_codes.regenerate')],
    },
    async (request) => {
      const userId = request.userId as string;
      const context = requestContext(request, deps);
      if ((await listEnabledFactors(deps.db, userId)).length === 0) throw new PublicError('factor_not_found');
      if ((await checkFactorProof(deps, context, userId, request.body)) === undefined) {
        throw new PublicError('invalid_factor_code');
      }
      const recoveryCodes = await inTransaction(deps.db, async (trx) => {
        const codes = await issueRecoveryCodes(trx, deps.keys.codeHmacKey, userId);
        await recordEvent(trx, context, 'recovery_codes.regenerated', { userId });
        return codes;
      });
      return { recoveryCodes };
    },
  );
};
