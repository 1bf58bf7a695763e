import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import { type Channel, QUEUE_NAMES, WEBHOOK_QUEUE } from '@otp/domain';

import type { Logger, RedisClient } from '@otp/runtime';
import { Queue } from 'bullmq';
import type { FastifyPluginCallback } from 'fastify';
import { DeliveryQueueAdapter } from './job-view.ts';
import { publicWebhookJobData, publicWebhookReturnValue } from './webhook-job-view.ts';

/**
 * The writing actions the board keeps, as `METHOD route`. Reading is always allowed. Retry,
 * clean, promote, pause and resume are what an operator needs; the others are left out:
 * editing or adding job data cannot produce a valid sealed envelope, emptying or obliterating a
 * queue would throw away accepted messages, and concurrency and rate limits belong to the
 * workers' configuration.
 */
export const ALLOWED_ACTIONS = new Set([
  'PUT /api/queues/pause',
  'PUT /api/queues/resume',
  'PUT /api/queues/:queueName/pause',
  'PUT /api/queues/:queueName/resume',
  'PUT /api/queues/:queueName/retry/:queueStatus',
  'PUT /api/queues/:queueName/clean/:queueStatus',
  'PUT /api/queues/:queueName/promote',
  'PUT /api/queues/:queueName/rate-limit/release',
  'PUT /api/queues/:queueName/:jobId/retry',
  'PUT /api/queues/:queueName/:jobId/clean',
  'PUT /api/queues/:queueName/:jobId/promote',
]);

type ApiRoutes = Parameters<FastifyAdapter['setApiRoutes']>[0];

/** bull-board's Fastify adapter, registering only the reading routes and the allowed actions. */
class DeliveryBoardAdapter extends FastifyAdapter {
  override setApiRoutes(routes: ApiRoutes): this {
    const kept: ApiRoutes = [];
    for (const route of routes) {
      const methods = ([] as string[]).concat(route.method).map((method) => method.toUpperCase());
      const paths = ([] as string[])
        .concat(route.route)
        .filter((path) => methods.every((method) => method === 'GET' || ALLOWED_ACTIONS.has(`${method} ${path}`)));
      if (paths.length > 0) kept.push({ ...route, route: paths });
    }
    super.setApiRoutes(kept);
    return this;
  }
}

export interface DeliveryBoard {
  /** The bull-board routes (UI, its static files, its /api), to register behind authentication. */
  plugin: FastifyPluginCallback;
  queues: Record<Channel | 'webhooks', Queue>;
  close(): Promise<void>;
}

export interface DeliveryBoardOptions {
  redis: RedisClient;
  prefix: string;
  log: Logger;
  /** Pages of the dashboard beside the board, in the board's header menu (the kill switches). */
  links?: Array<{ text: string; url: string }>;
}

/** bull-board over the `email` and `sms` delivery queues and the `webhooks` queue, sharing one Redis connection. */
export function createDeliveryBoard(options: DeliveryBoardOptions): DeliveryBoard {
  const make = (name: string) => {
    const queue = new Queue(name, { connection: options.redis, prefix: options.prefix });
    queue.on('error', (error: Error) =>
      options.log.error({ err: { message: error.message }, queue: name }, 'queue error'),
    );
    return queue;
  };
  const queues = { email: make(QUEUE_NAMES.email), sms: make(QUEUE_NAMES.sms), webhooks: make(WEBHOOK_QUEUE) };
  const serverAdapter = new DeliveryBoardAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: [
      new DeliveryQueueAdapter(queues.email, {
        displayName: 'email',
        description: 'One job per email code send (email-worker, SMTP)',
      }),
      new DeliveryQueueAdapter(queues.sms, {
        displayName: 'sms',
        description: 'One job per SMS code send (sms-worker, Twilio)',
      }),
      new DeliveryQueueAdapter(queues.webhooks, {
        displayName: 'webhooks',
        description: 'One job per event per endpoint (webhook-worker); failed = dead letter after 24 h of retries',
        data: publicWebhookJobData,
        returnValue: publicWebhookReturnValue,
      }),
    ],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'OTP delivery queues',
        hideDocsLink: true,
        sortQueues: false,
        ...(options.links === undefined || options.links.length === 0 ? {} : { miscLinks: options.links }),
      },
    },
  });
  return {
    plugin: serverAdapter.registerPlugin() as FastifyPluginCallback,
    queues,
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
