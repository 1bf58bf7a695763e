import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type KillSwitch, listKillSwitches, setKillSwitch } from '@otp/db';
import { KILL_SWITCH_TARGET_FORMS, PublicError, parseKillSwitchTarget } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { inTransaction } from '../events/record-event.ts';
import { problemResponses, Timestamp } from '../http/schemas.ts';
import type { AdminCaller } from './admin.auth.ts';
import { recordAdminEvent } from './admin.events.ts';
import { ADMIN_SECURITY } from './admin.openapi.ts';

const SwitchState = Type.Object({
  target: Type.String({ description: `${KILL_SWITCH_TARGET_FORMS.join(', ')} (XX: ISO 3166-1 alpha-2)` }),
  on: Type.Boolean({
    description: 'false: switched off (requests refused with 503 channel_suspended, queued sends held)',
  }),
  changedAt: Timestamp,
  changedBy: Type.Union([Type.String(), Type.Null()]),
});

const SwitchList = Type.Object(
  { switches: Type.Array(SwitchState) },
  { description: 'Every switch ever set, by target; a target not listed is on' },
);

const TargetParams = Type.Object(
  { target: Type.String({ minLength: 1, maxLength: 32, description: 'sms, email, country:GB, provider:twilio' }) },
  { additionalProperties: false },
);
const SwitchBody = Type.Object({ on: Type.Boolean() }, { additionalProperties: false });

function present(row: KillSwitch) {
  return { target: row.target, on: !row.off, changedAt: row.changed_at.toISOString(), changedBy: row.changed_by };
}

/**
 * The operator's kill switches (docs/sms-fraud.md), as `ops kill-switch` sets them: every replica
 * reads the table every KILL_SWITCH_REFRESH_MS; this one reads it at once after a change.
 */
export const adminKillSwitchRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/kill-switches',
    {
      schema: {
        tags: ['kill-switches'],
        summary: 'Every kill switch set so far',
        security: ADMIN_SECURITY,
        response: { 200: SwitchList, ...problemResponses(401) },
      },
    },
    async (request) => {
      const rows = await listKillSwitches(deps.db);
      await recordAdminEvent(deps.db, deps, request, 'admin.kill_switches_viewed');
      return { switches: rows.map(present) };
    },
  );

  app.put(
    '/kill-switches/:target',
    {
      schema: {
        tags: ['kill-switches'],
        summary: 'Switch a channel, an SMS country or a provider off ({"on": false}) or back on',
        security: ADMIN_SECURITY,
        params: TargetParams,
        body: SwitchBody,
        response: { 200: SwitchState, ...problemResponses(400, 401, 415) },
      },
    },
    async (request) => {
      const target = parseKillSwitchTarget(request.params.target);
      if (target === undefined) {
        throw new PublicError('validation_failed', {
          detail: `params.target must be one of ${KILL_SWITCH_TARGET_FORMS.join(', ')}`,
        });
      }
      const { on } = request.body;
      const caller = request.admin as AdminCaller;
      // The table's author column, shown by `ops kill-switch list` and the dashboard.
      const by = caller.actor === null ? `admin:${caller.operator}` : `${caller.actor} (admin:${caller.operator})`;
      const row = await inTransaction(deps.db, async (trx) => {
        const changed = await setKillSwitch(trx, target, !on, by.slice(0, 200));
        await recordAdminEvent(trx, deps, request, 'admin.kill_switch_set', { details: { target, on } });
        return changed;
      });
      await deps.killSwitches.refresh();
      return present(row);
    },
  );
};
