import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { countRemainingRecoveryCodes, listEnabledFactors } from '@otp/db';
import { PublicError } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { inTransaction } from '../../events/record-event.ts';
import { type RequestContext, requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { problemResponses } from '../../http/schemas.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import type { FactorProof } from '../auth/factor.port.ts';
import { checkFactorProof } from '../factors/factor.check.service.ts';
import { CodeBody, RecoveryCode } from '../factors/factors.schemas.ts';
import { deleteAccount } from './account-deletion.service.ts';

const DeleteAccountBody = Type.Union([
  Type.Object({}, { additionalProperties: false }),
  CodeBody,
  Type.Object({ recoveryCode: RecoveryCode }, { additionalProperties: false }),
]);
type DeleteAccountBody = Type.Static<typeof DeleteAccountBody>;

/**
 * An account with an authenticator factor is deleted only with a second factor, as it is signed
 * in to only with one: a recent sign-in proves the password or a code to the address, and deleting
 * must not be easier than signing in. The proof goes through the MFA step's check: a wrong code
 * counts toward the factor lock (403 factor_locked then, where a recovery code still works).
 * An account without factors needs none, and a proof it sends is not checked.
 */
async function requireFactorProof(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  body: DeleteAccountBody,
): Promise<void> {
  const factors = await listEnabledFactors(deps.db, userId);
  if (factors.length === 0 && (await countRemainingRecoveryCodes(deps.db, userId)) === 0) return;
  const proof: FactorProof | undefined =
    'code' in body ? { code: body.code } : 'recoveryCode' in body ? { recoveryCode: body.recoveryCode } : undefined;
  if (proof === undefined) {
    throw new PublicError('factor_proof_required', { detail: 'send code (authenticator) or recoveryCode' });
  }
  if ((await checkFactorProof(deps, context, userId, proof)) === undefined) {
    throw new PublicError('invalid_factor_code');
  }
}

/** DELETE /v1/me: the signed-in user deletes their account. */
export const accountDeletionRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  app.delete(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Delete the account and everything the system holds of it',
        description:
          'Needs a recent sign-in (401 reauthentication_required). An account with an authenticator factor ' +
          'also sends `code` or `recoveryCode` (400 factor_proof_required without; 400 invalid_factor_code when ' +
          'wrong, counted toward the factor lock: 403 factor_locked); one without sends `{}`. Removes the ' +
          'account, its sessions and tokens, factors, recovery codes, notices and the codes sent to its addresses; ' +
          'its audit events are kept anonymised. A last notice goes to the verified address.',
        security: BEARER_SECURITY,
        body: DeleteAccountBody,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 401, 403, 413, 415, 429) },
      },
      onRequest: limits.verifications,
      preHandler: [authenticate(deps), requireRecentSignIn(deps, 'account.delete')],
    },
    async (request, reply) => {
      const userId = request.userId as string;
      const context = requestContext(request, deps);
      await requireFactorProof(deps, context, userId, request.body);
      const deleted = await inTransaction(deps.db, (trx) => deleteAccount(trx, deps, userId, context, { by: 'user' }));
      // Deleted meanwhile (a second request, an operator): a token of no account is no token.
      if (deleted === undefined) throw new PublicError('unauthorized', { detail: 'the account no longer exists' });
      return reply.code(204).send(null);
    },
  );
};
