// The baselines of `pnpm bench`: bare Fastify routes doing only the essential work of each
// measured endpoint, and nothing else (no outbox, no per-recipient limits, no envelopes, no
// events beyond the one row a sign-in writes, no logging).
//   POST /bare             a code request: the per-IP limit (Redis), a code and its HMAC, one
//                          INSERT, one BullMQ add.
//   POST /bare/:id/verify  a code sign-in: count the attempt (conditional UPDATE), compare HMACs
//                          in constant time, then in one transaction consume the challenge, find
//                          or create the user, insert a session, a refresh token and an outbox
//                          event; sign an EdDSA access token.
// Its tables are made by the bench (resetDatabase in request-endpoint.bench.ts).
import {
  createHash,
  createHmac,
  createPrivateKey,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';
import { codeRequestSchema, perIpLimits, verifySchema } from './bare-routes.ts';

const port = Number(process.env.PORT);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
const queue = new Queue('email', { connection, prefix: process.env.QUEUE_PREFIX });
const hmacKey = Buffer.from(process.env.CODE_HMAC_KEY as string, 'base64');
const signingKey = createPrivateKey(process.env.JWT_PRIVATE_KEY as string);

/** The keyed hash of a code (the bench seeds the verify route's challenges with the same one). */
function bareCodeHash(id: string, code: string): Buffer {
  return createHmac('sha256', hmacKey).update(`${id}\0${code}`).digest();
}

const app = Fastify();
const perIp = await perIpLimits(app, connection, 'bare-rate-limit:');

app.post(
  '/bare',
  {
    onRequest: perIp('codes'),
    schema: codeRequestSchema,
  },
  async (request, reply) => {
    const body = request.body as { channel: string; to: string };
    const id = randomUUID();
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await pool.query(
      'INSERT INTO bench_bare (id, recipient, code_hash, expires_at) VALUES ($1, $2, $3, now() + interval $$10 minutes$$)',
      [id, body.to, bareCodeHash(id, code)],
    );
    await queue.add('send-code', { id, channel: body.channel }, { jobId: id, removeOnComplete: true });
    return reply.code(202).send({ challengeId: id });
  },
);

app.post(
  '/bare/:id/verify',
  {
    onRequest: perIp('verify'),
    schema: verifySchema,
  },
  async (request, reply) => {
    const { id } = request.params as { id: string };
    const { code } = request.body as { code: string };
    const counted = await pool.query<{ recipient: string; code_hash: Buffer }>(
      `UPDATE bench_bare SET attempt_count = attempt_count + 1
       WHERE id = $1 AND status = 'pending' AND expires_at > now() AND attempt_count < 5
       RETURNING recipient, code_hash`,
      [id],
    );
    const challenge = counted.rows[0];
    if (challenge === undefined) return reply.code(410).send({ code: 'challenge_expired' });
    if (!timingSafeEqual(challenge.code_hash, bareCodeHash(id, code))) {
      return reply.code(400).send({ code: 'invalid_code' });
    }
    const client = await pool.connect();
    let userId: string;
    const sessionId = randomUUID();
    const refreshToken = randomBytes(32).toString('base64url');
    try {
      await client.query('BEGIN');
      const consumed = await client.query(
        `UPDATE bench_bare SET status = 'verified' WHERE id = $1 AND status = 'pending'`,
        [id],
      );
      if (consumed.rowCount !== 1) {
        await client.query('ROLLBACK');
        return reply.code(409).send({ code: 'challenge_used' });
      }
      const user = await client.query<{ id: string }>(
        `INSERT INTO bench_bare_users (id, email) VALUES ($1, $2)
         ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id`,
        [randomUUID(), challenge.recipient],
      );
      userId = (user.rows[0] as { id: string }).id;
      await client.query(
        `INSERT INTO bench_bare_sessions (id, user_id, expires_at) VALUES ($1, $2, now() + interval '30 days')`,
        [sessionId, userId],
      );
      await client.query(
        `INSERT INTO bench_bare_refresh_tokens (id, session_id, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + interval '30 days')`,
        [randomUUID(), sessionId, createHash('sha256').update(refreshToken).digest()],
      );
      await client.query(`INSERT INTO bench_bare_events (id, type, user_id) VALUES ($1, 'code.verified', $2)`, [
        randomUUID(),
        userId,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    const accessToken = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti(randomUUID())
      .sign(signingKey);
    return reply.send({ accessToken, refreshToken, user: { id: userId } });
  },
);

app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', async () => {
  await app.close();
  await queue.close();
  connection.disconnect();
  await pool.end();
  process.exit(0);
});
