import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findUserByEmail, findUserByPhone } from '@otp/db';
import { type Channel, maskRecipient, normalizeRecipient, PublicError } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { IdParams, problemResponses } from '../http/schemas.ts';
import { recordAdminEvent } from './admin.events.ts';
import { ADMIN_SECURITY } from './admin.openapi.ts';
import { AdminUserDetail, UserSearchAnswer, UserSearchQuery } from './admin-users.schemas.ts';
import {
  disableUser,
  enableUser,
  presentAdminUser,
  resetFactors,
  revokeSessions,
  unlockUser,
  viewUser,
} from './admin-users.service.ts';

/** An address as the domain normalises it; one it refuses is a 400 (never echoed back). */
export function normalizedOr400(channel: Channel, input: string, field: string): string {
  try {
    return normalizeRecipient(channel, input);
  } catch {
    throw new PublicError('validation_failed', { detail: `querystring.${field} is not a valid address` });
  }
}

const ACTIONS = {
  disable: { run: disableUser, summary: 'Disable the account: its sessions end and every sign-in is refused' },
  enable: { run: enableUser, summary: 'Enable a disabled account again' },
  'revoke-sessions': { run: revokeSessions, summary: 'End every session of the account' },
  'reset-factors': { run: resetFactors, summary: 'Remove its TOTP/HOTP factors and recovery codes' },
  unlock: { run: unlockUser, summary: 'End its factor lock and the wrong-code locks of its addresses' },
} as const;

/** Support's view of accounts, and the changes it may make to one. */
export const adminUserRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Find the account holding an email address or phone number',
        security: ADMIN_SECURITY,
        querystring: UserSearchQuery,
        response: { 200: UserSearchAnswer, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const { email, phone } = request.query;
      if ((email === undefined) === (phone === undefined)) {
        throw new PublicError('validation_failed', { detail: 'querystring must have exactly one of email, phone' });
      }
      const channel: Channel = email === undefined ? 'sms' : 'email';
      const address = normalizedOr400(channel, (email ?? phone) as string, channel === 'email' ? 'email' : 'phone');
      const user =
        channel === 'email' ? await findUserByEmail(deps.db, address) : await findUserByPhone(deps.db, address);
      // The operator sees the address they asked about; the audit row keeps it masked.
      await recordAdminEvent(deps.db, deps, request, 'admin.users_searched', {
        userId: user?.id ?? null,
        details: {
          by: channel === 'email' ? 'email' : 'phone',
          recipient: maskRecipient(channel, address),
          found: user !== undefined,
        },
      });
      return { users: user === undefined ? [] : [presentAdminUser(user)] };
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'An account with its factors, sessions, latest security events and locks',
        security: ADMIN_SECURITY,
        params: IdParams,
        response: { 200: AdminUserDetail, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => viewUser(deps, request, request.params.id),
  );

  for (const [path, action] of Object.entries(ACTIONS)) {
    app.post(
      `/users/:id/${path}`,
      {
        schema: {
          tags: ['users'],
          summary: action.summary,
          security: ADMIN_SECURITY,
          params: IdParams,
          response: { 204: Type.Null(), ...problemResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        await action.run(deps, request, request.params.id);
        return reply.code(204).send(null);
      },
    );
  }
};
