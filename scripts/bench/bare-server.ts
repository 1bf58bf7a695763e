// The baseline of `pnpm bench`: a bare Fastify route doing the same storage work as a code
// request (one INSERT, one BullMQ add) and nothing else: no limits, no hashing, no outbox.
import { randomInt, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';

const port = Number(process.env.PORT);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
const queue = new Queue('email', { connection, prefix: process.env.QUEUE_PREFIX });

const app = Fastify();
app.post(
  '/bare',
  {
    schema: {
      body: {
        type: 'object',
        required: ['channel', 'to'],
        additionalProperties: false,
        properties: { channel: { type: 'string', enum: ['email', 'sms'] }, to: { type: 'string', maxLength: 254 } },
      },
    },
  },
  async (request, reply) => {
    const body = request.body as { channel: string; to: string };
    const id = randomUUID();
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await pool.query(
      'INSERT INTO bench_bare (id, recipient, code, expires_at) VALUES ($1, $2, $3, now() + interval $$10 minutes$$)',
      [id, body.to, code],
    );
    await queue.add('send-code', { id, channel: body.channel }, { jobId: id, removeOnComplete: true });
    return reply.code(202).send({ challengeId: id });
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
