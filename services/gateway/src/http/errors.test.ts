import { Writable } from 'node:stream';
import { sql } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { FastifyError } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../testing/gateway.harness.ts';
import { toPublicError } from './errors.ts';

const fault = (message: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), fields) as unknown as FastifyError;

describe('mapping errors to problems', () => {
  it('keeps public errors, and turns an unreachable or stalled Postgres into 503', () => {
    const publicError = new PublicError('invalid_code', { extra: { attemptsRemaining: 2 } });
    expect(toPublicError(publicError as unknown as FastifyError)).toBe(publicError);
    for (const unavailable of [
      fault('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      fault('terminating connection due to administrator command', { code: '57P01' }),
      fault('canceling statement due to statement timeout', { code: '57014' }),
      fault('connection failure', { code: '08006' }),
      fault('timeout exceeded when trying to connect'),
      fault('wrapped', { cause: fault('Connection terminated unexpectedly') }),
      new AggregateError([fault('x', { code: 'ECONNREFUSED' })], 'all failed') as unknown as FastifyError,
    ]) {
      const mapped = toPublicError(unavailable);
      expect(mapped.code, unavailable.message).toBe('service_unavailable');
      expect(mapped.retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it('turns a transaction Postgres aborted (deadlock, serialization conflict) into 503: the same request may be sent again', () => {
    for (const code of ['40P01', '40001']) {
      const mapped = toPublicError(fault('deadlock detected', { code }));
      expect(mapped.code, code).toBe('service_unavailable');
      expect(mapped.retryAfterSeconds).toBe(1);
    }
  });

  it('answers anything else as a generic 500 that says nothing of the cause', () => {
    const mapped = toPublicError(fault('duplicate key value violates unique constraint', { code: '23505' }));
    expect(mapped.code).toBe('internal_error');
    expect(mapped.toProblem()).toEqual({
      type: 'about:blank',
      title: 'Internal server error',
      status: 500,
      code: 'internal_error',
    });
  });
});

describe('an unexpected failure inside a request', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const { gateway, database } = useTestGateway({ log: pino({ level: 'info' }, sink) });

  it('is a generic 500, logged with its stack, and the challenge is rolled back with its outbox row', async () => {
    // The outbox insert fails after the challenge insert, in the same transaction.
    await sql`ALTER TABLE delivery_outbox RENAME TO delivery_outbox_gone`.execute(database.db);
    let response: Awaited<ReturnType<typeof post>>;
    try {
      response = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() });
    } finally {
      await sql`ALTER TABLE delivery_outbox_gone RENAME TO delivery_outbox`.execute(database.db);
    }
    expect(response.status).toBe(500);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Internal server error',
      status: 500,
      code: 'internal_error',
    });
    expect(await database.db.selectFrom('otp_challenges').select('id').execute()).toEqual([]);
    const logged = lines.map((line) => JSON.parse(line) as { msg?: string; err?: { stack?: string } });
    const entry = logged.find((line) => line.msg === 'unhandled error');
    expect(entry?.err?.stack).toMatch(/delivery_outbox/);
  });
});
