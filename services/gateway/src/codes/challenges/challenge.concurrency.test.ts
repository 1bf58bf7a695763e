import { describe, expect, it } from 'vitest';
import { requestCode, verify, wrongCode } from '../../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { startTestGateway, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('verification under concurrency', () => {
  // Two app instances on one database, as two replicas behind a load balancer; a large
  // budget so that every submission reaches the compare-and-consume step.
  const env = { OTP_MAX_ATTEMPTS: '100' };
  const primary = useTestGateway({ env });
  const { gateway, database } = primary;
  const { gateway: replica } = useTestReplica(primary, env);

  it('16 concurrent right codes across two replicas: exactly one 200 and one session', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail('race') });
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) => verify(i % 2 === 0 ? gateway : replica, id, code)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 200)) {
      expect(response.status).toBe(410);
      expect(response.body.code).toBe('challenge_used');
    }
    const families = await database.db.selectFrom('refresh_tokens').select('family_id').distinct().execute();
    expect(families).toHaveLength(1);
    const users = await database.db.selectFrom('users').select('id').execute();
    expect(users).toHaveLength(1);
  });

  it('never compares more codes than the budget, however many arrive at once', async () => {
    const small = await startTestGateway(database, { env: { OTP_MAX_ATTEMPTS: '5' } });
    try {
      const { id, code } = await requestCode(small, { channel: 'email', to: uniqueEmail('flood') });
      const responses = await Promise.all(Array.from({ length: 20 }, () => verify(small, id, wrongCode(code))));
      const invalid = responses.filter((response) => response.body.code === 'invalid_code');
      const limited = responses.filter((response) => response.body.code === 'too_many_attempts');
      expect(invalid).toHaveLength(4);
      expect(limited).toHaveLength(16);
      const row = await database.db
        .selectFrom('otp_challenges')
        .select(['attempt_count', 'status'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ attempt_count: 5, status: 'locked' });
      expect((await verify(small, id, code)).body.code).toBe('too_many_attempts');
    } finally {
      await small.close();
    }
  });
});
