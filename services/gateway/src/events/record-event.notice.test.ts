import { insertUserWithPassword, sql } from '@otp/db';
import { isNoticeJobData, type NoticeSecret, normalizeEmail, noticeEnvelopeContext, open } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { uniqueEmail } from '../testing/gateway.harness.ts';
import { createNoticeSender } from './notice-sender.ts';
import { inTransaction, recordEvent } from './record-event.ts';
import type { RequestContext } from './request-context.ts';

describe('recordEvent: the security notice of an event', () => {
  const { gateway } = useTestGateway();

  let nudges = 0;
  function context(): RequestContext {
    const notices = createNoticeSender({ ...gateway.deps, relay: { nudge: () => nudges++ } });
    return {
      ip: '2001:db8:1:2:3:4:5:6',
      userAgent: 'Mozilla/5.0 (Test)',
      requestId: 'req-notice',
      log: gateway.deps.log,
      metrics: gateway.deps.metrics,
      notices,
    };
  }

  async function user(verified: boolean, phone: string | null = null): Promise<string> {
    const email = normalizeEmail(uniqueEmail('notice'));
    const row = await insertUserWithPassword(gateway.deps.db, { email, passwordHash: 'x', name: null });
    if (row === undefined) throw new Error('no user');
    await sql`UPDATE users SET email_verified_at = ${verified ? sql`now()` : null}, phone = ${phone},
      phone_verified_at = ${phone === null ? null : sql`now()`} WHERE id = ${row.id}`.execute(gateway.deps.db);
    return row.id;
  }

  async function notices(userId: string) {
    return gateway.deps.db
      .selectFrom('notifications as n')
      .innerJoin('delivery_outbox as o', 'o.notification_id', 'n.id')
      .select(['n.id', 'n.template', 'n.status', 'o.kind', 'o.job_id', 'o.job_data', 'o.challenge_id'])
      .where('n.user_id', '=', userId)
      .execute();
  }

  const events = (userId: string, type: string) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM security_events WHERE user_id = ${userId} AND type = ${type}`
      .execute(gateway.deps.db)
      .then((result) => result.rows[0]?.n);

  it('writes a notification and its outbox row with the audit row, and nudges the relay after the commit', async () => {
    const userId = await user(true);
    const before = nudges;
    await inTransaction(gateway.deps.db, async (trx) => {
      await recordEvent(trx, context(), 'recovery_codes.regenerated', { userId });
      expect(nudges).toBe(before);
    });
    expect(nudges).toBe(before + 1);
    const rows = await notices(userId);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      template: 'recovery-codes-regenerated',
      status: 'queued',
      kind: 'notice',
      challenge_id: null,
    });
    expect(row?.job_id).toBe(`notice.${row?.id}`);
    expect(isNoticeJobData(row?.job_data)).toBe(true);
    expect(await events(userId, 'recovery_codes.regenerated')).toBe(1);
  });

  it('opens its own transaction when called outside one', async () => {
    const userId = await user(true);
    await recordEvent(gateway.deps.db, context(), 'factor.locked', { userId, details: { failures: 5 } });
    expect((await notices(userId)).map((row) => row.template)).toEqual(['factor-locked']);
    expect(await events(userId, 'factor.locked')).toBe(1);
  });

  it('sends nothing when the change is rolled back', async () => {
    const userId = await user(true);
    const before = nudges;
    await expect(
      inTransaction(gateway.deps.db, async (trx) => {
        await recordEvent(trx, context(), 'recovery_codes.regenerated', { userId });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await notices(userId)).toEqual([]);
    expect(await events(userId, 'recovery_codes.regenerated')).toBe(0);
    expect(nudges).toBe(before);
  });

  it('sends nothing to an account without a verified email, and the event is still recorded', async () => {
    const userId = await user(false);
    await recordEvent(gateway.deps.db, context(), 'token.reuse_detected', { userId });
    expect(await notices(userId)).toEqual([]);
    expect(await events(userId, 'token.reuse_detected')).toBe(1);
  });

  it('sends nothing for a call that says notice: false', async () => {
    const userId = await user(true);
    await recordEvent(gateway.deps.db, context(), 'factor.changed', {
      userId,
      details: { kind: 'totp', change: 'enrolled' },
      notice: false,
    });
    expect(await notices(userId)).toEqual([]);
    expect(await events(userId, 'factor.changed')).toBe(1);
  });

  it('seals the facts the template shows: the phone masked, the device and its /64, never the details', async () => {
    const userId = await user(true, '+14155552671');
    const ctx = context();
    await recordEvent(gateway.deps.db, ctx, 'phone.changed', { userId, details: { replaced: true } });
    await recordEvent(gateway.deps.db, ctx, 'sign_in.new_device', { userId, details: { sessionId: 'secret-ish' } });
    const opened = (await notices(userId)).map((row) => {
      const data = row.job_data as { envelope: string; notificationId: string; toMasked: string };
      expect(data.toMasked).toBe('n***@example.com');
      return open(gateway.ring, data.envelope, noticeEnvelopeContext(data.notificationId)) as NoticeSecret;
    });
    const phone = opened.find((secret) => secret.facts.phoneMasked !== undefined);
    expect(phone?.facts.phoneMasked).toBe('+*******2671');
    expect(JSON.stringify(opened)).not.toContain('4155552671');
    const signIn = opened.find((secret) => secret.facts.network !== undefined);
    expect(signIn?.facts.userAgent).toBe('Mozilla/5.0 (Test)');
    expect(signIn?.facts.network).toMatch(/^2001:db8:1:2::/);
    expect(JSON.stringify(opened)).not.toContain('secret-ish');
  });
});
