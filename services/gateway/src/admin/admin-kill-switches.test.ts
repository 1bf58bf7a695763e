import { describe, expect, it } from 'vitest';
import { adminCall, auditRows } from '../testing/admin.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { post, TEST_ADMIN_OPERATOR } from '../testing/gateway.harness.ts';

// The kill switches through the admin API: the same table `ops kill-switch` writes, audited, and
// applied by this replica at once.

describe('admin: kill switches', () => {
  const { gateway } = useTestGateway({ env: { KILL_SWITCH_REFRESH_MS: '60000' } });

  it('lists, switches off and back on, and records who did', async () => {
    expect((await adminCall(gateway, 'GET', '/admin/v1/kill-switches')).body).toEqual({ switches: [] });
    const off = await adminCall(gateway, 'PUT', '/admin/v1/kill-switches/SMS', {
      payload: { on: false },
      actor: 'Linus',
    });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({
      target: 'sms',
      on: false,
      changedAt: expect.any(String),
      changedBy: `Linus (admin:${TEST_ADMIN_OPERATOR})`,
    });
    // Applied by this replica without waiting for its next read (a minute away here).
    const refused = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: '+14155550142' });
    expect([refused.status, refused.body.code]).toEqual([503, 'channel_suspended']);

    const country = await adminCall(gateway, 'PUT', '/admin/v1/kill-switches/country:gb', { payload: { on: false } });
    expect(country.body).toMatchObject({ target: 'country:GB', on: false, changedBy: `admin:${TEST_ADMIN_OPERATOR}` });
    expect((await adminCall(gateway, 'PUT', '/admin/v1/kill-switches/sms', { payload: { on: true } })).body.on).toBe(
      true,
    );
    const list = await adminCall(gateway, 'GET', '/admin/v1/kill-switches');
    expect(
      (list.body.switches as Array<{ target: string; on: boolean }>).map(({ target, on }) => [target, on]),
    ).toEqual([
      ['country:GB', false],
      ['sms', true],
    ]);
    const rows = await auditRows(gateway, 'admin.kill_switch_set');
    expect(rows.map((row) => row.details)).toEqual([
      { operator: TEST_ADMIN_OPERATOR, actor: 'Linus', target: 'sms', on: false },
      { operator: TEST_ADMIN_OPERATOR, actor: null, target: 'country:GB', on: false },
      { operator: TEST_ADMIN_OPERATOR, actor: null, target: 'sms', on: true },
    ]);
    expect(await auditRows(gateway, 'admin.kill_switches_viewed')).toHaveLength(2);
  });

  it('answers 400 validation_failed to an unknown target or a bad body', async () => {
    for (const [target, payload] of [
      ['country:UK', { on: false }],
      ['fax', { on: false }],
      ['sms', { on: 'no' }],
      ['sms', {}],
      ['sms', { on: false, why: 'x' }],
    ] as const) {
      const response = await adminCall(gateway, 'PUT', `/admin/v1/kill-switches/${target}`, { payload });
      expect(response.status, `${target} ${JSON.stringify(payload)}`).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    }
  });
});
