import { describe, expect, it } from 'vitest';
import { adminCall, auditRows } from '../testing/admin.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { TEST_ADMIN_OPERATOR } from '../testing/gateway.harness.ts';

// The audit trail through the admin API: keyset pages (newest first, no repeat, no gap, even
// with events written between pages) and the NDJSON export of the same filter.

describe('admin: security events', () => {
  const { gateway } = useTestGateway();
  const userId = '11111111-1111-4111-8111-111111111111';

  /** `count` events of `type`, in one statement (their ids in `seq` order). */
  async function seed(count: number, type: string): Promise<void> {
    await gateway.deps.db
      .insertInto('security_events')
      .values(
        Array.from({ length: count }, (_, seq) => ({
          type,
          user_id: null,
          ip: '192.0.2.1',
          details: JSON.stringify({ seq }),
        })),
      )
      .execute();
  }

  type Item = { id: string; type: string; details: Record<string, unknown>; createdAt: string; ip?: string };

  it('walks the trail page by page without repeating or skipping an event, and the export matches', async () => {
    await seed(23, 'test.paged');
    const seen: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `type=test.paged&limit=5${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await adminCall(gateway, 'GET', `/admin/v1/security-events?${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      seen.push(...(page.body.items as Item[]));
      cursor = page.body.nextCursor as string | null;
      pages += 1;
      // Written meanwhile: newer than the walk, so not in it.
      if (pages === 2) await seed(3, 'test.paged');
    } while (cursor !== null);
    expect(pages).toBe(5);
    const ids = seen.map((item) => Number(item.id));
    expect(new Set(ids).size).toBe(23);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(seen.map((item) => item.details.seq)).toEqual(Array.from({ length: 23 }, (_, i) => 22 - i));
    expect(seen[0]).toMatchObject({ type: 'test.paged', ip: '192.0.2.1', createdAt: expect.any(String) });

    const exported = await adminCall(gateway, 'GET', '/admin/v1/security-events/export?type=test.paged');
    expect(exported.status).toBe(200);
    expect(exported.contentType).toMatch(/^application\/x-ndjson/);
    const lines = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Item);
    expect(lines).toHaveLength(26);
    const all = await adminCall(gateway, 'GET', '/admin/v1/security-events?type=test.paged&limit=500');
    expect(lines).toEqual(all.body.items);

    const [read] = await auditRows(gateway, 'admin.security_events_read');
    expect(read?.details).toEqual({
      operator: TEST_ADMIN_OPERATOR,
      actor: null,
      filters: { type: 'test.paged' },
      count: 5,
    });
    const [exportedEvent] = await auditRows(gateway, 'admin.security_events_exported');
    expect(exportedEvent?.details).toMatchObject({ operator: TEST_ADMIN_OPERATOR, filters: { type: 'test.paged' } });
  });

  it('exports more than one query page, streamed', async () => {
    await seed(1203, 'test.bulk');
    const exported = await adminCall(gateway, 'GET', '/admin/v1/security-events/export?type=test.bulk');
    const ids = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => Number((JSON.parse(line) as Item).id));
    expect(ids).toHaveLength(1203);
    expect(new Set(ids).size).toBe(1203);
  });

  it('filters by user, type and time', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    await adminCall(gateway, 'GET', `/admin/v1/users/${userId}`); // 404: records nothing
    const user = await gateway.deps.db
      .insertInto('users')
      .values({ email: 'filter@example.com' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await adminCall(gateway, 'GET', `/admin/v1/users/${user.id}`);
    const byUser = await adminCall(gateway, 'GET', `/admin/v1/security-events?userId=${user.id}&since=${since}`);
    expect((byUser.body.items as Item[]).map((item) => item.type)).toEqual(['admin.user_viewed']);
    const future = await adminCall(
      gateway,
      'GET',
      `/admin/v1/security-events?since=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(future.body).toEqual({ items: [], nextCursor: null });
    const past = await adminCall(gateway, 'GET', `/admin/v1/security-events?until=2000-01-01T00:00:00Z`);
    expect(past.body.items).toEqual([]);
  });

  it('answers 400 validation_failed to a bad cursor, limit or filter', async () => {
    const forged = Buffer.from('v1:abc').toString('base64url');
    for (const query of [
      'cursor=nope',
      `cursor=${forged}`,
      'limit=0',
      'limit=501',
      'limit=ten',
      'userId=not-a-uuid',
      'since=yesterday',
      'type=Not A Type',
      'page=2',
    ]) {
      const response = await adminCall(gateway, 'GET', `/admin/v1/security-events?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    }
    const badExport = await adminCall(gateway, 'GET', '/admin/v1/security-events/export?limit=5');
    expect(badExport.status).toBe(400);
  });
});
