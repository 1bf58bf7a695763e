// The delivery bench's floor of one email worker: what a delivery does for its guarantees, and
// nothing else. A BullMQ worker on the email queue with the email worker's settings (concurrency,
// the queue-wide limiter, lock and stalled check, a job whose worker died twice fails), and for
// each job: the worker's take statement (takeChallengeToSend: an expired, used or superseded
// challenge is refused; otherwise it moves to `sending`), its envelope opened (the code and the
// address travel sealed), the message sent through the bare pool's transport (code-email.ts: the
// same message, no templates), then the worker's write-back (recordAttemptAndMove: the attempt
// row and `sent` in one statement). No templates, logging, metrics, spans, kill switches,
// provider chain or failure handling: a job that fails here just fails.
//   GET /health/ready   200 once the worker runs
// Env: the email worker's (DATABASE_URL, REDIS_URL, QUEUE_PREFIX, ENVELOPE_KEYS, SMTP_URL,
// EMAIL_CONCURRENCY, EMAIL_RATE_LIMIT_MAX, ...); EMAIL_WORKER_PORT for the readiness answer.
import { createServer } from 'node:http';
import { createDb, recordAttemptAndMove, takeChallengeToSend } from '@otp/db';
import { attemptRow, openEnvelope } from '@otp/delivery';
import { type DeliveryJobData, isDeliverySecret, QUEUE_NAMES, redisTarget, sendRefusal } from '@otp/domain';
import { parseEmailWorkerConfig } from '@otp/email-worker';
import { createLogger, createWorkerRedis, readEnvironment } from '@otp/runtime';
import { Worker } from 'bullmq';
import { codeEmail, codeEmailTransport } from './code-email.ts';

const config = parseEmailWorkerConfig(readEnvironment());
const db = createDb({ url: config.DATABASE_URL, applicationName: 'bench-floor-worker' });
const transport = codeEmailTransport(config.SMTP_URL);

const worker = new Worker(
  QUEUE_NAMES.email,
  async (job) => {
    const data = job.data as DeliveryJobData;
    const { challengeId, sendNumber } = data;
    const now = new Date();
    const { challenge } = await takeChallengeToSend(db, challengeId, sendNumber, { now, take: true });
    const refusal = sendRefusal(challenge, sendNumber, now);
    if (challenge === undefined || refusal !== undefined) throw new Error(`refused: ${refusal ?? 'challenge_missing'}`);
    const secret = openEnvelope(config.keyRing, data);
    if (!isDeliverySecret('otp-code', secret)) throw new Error('envelope_unreadable');
    const started = performance.now();
    const sent = await transport.sendMail(codeEmail(secret.to, secret.code, challengeId, sendNumber));
    const attempt = {
      challengeId,
      sendNumber,
      channel: 'email' as const,
      provider: 'smtp',
      attempt: job.attemptsMade + 1,
      challengeCreatedAt: challenge.created_at_key,
    };
    await recordAttemptAndMove(
      db,
      attemptRow(attempt, 'sent', {
        providerMessageId: sent.messageId,
        durationMs: performance.now() - started,
        locale: data.locale,
      }),
      'sent',
      { providerMessageId: sent.messageId, lastError: null },
    );
    return { providerMessageId: sent.messageId };
  },
  {
    connection: createWorkerRedis(
      redisTarget(config),
      createLogger({ service: 'bench-floor', level: 'warn' }),
      'floor-worker',
    ),
    prefix: config.QUEUE_PREFIX,
    concurrency: config.EMAIL_CONCURRENCY,
    limiter: { max: config.EMAIL_RATE_LIMIT_MAX, duration: config.EMAIL_RATE_LIMIT_DURATION_MS },
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: 1,
  },
);

const server = createServer((_request, response) => {
  response.statusCode = worker.isRunning() ? 200 : 503;
  response.end();
});
server.listen(config.EMAIL_WORKER_PORT, '127.0.0.1');
process.once('SIGTERM', async () => {
  server.close();
  await worker.close();
  transport.close();
  await db.destroy();
  process.exit(0);
});
