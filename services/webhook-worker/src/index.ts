export * from './config.ts';
export * from './host-limiter.ts';
export * from './retry-schedule.ts';
export * from './webhook.sender.ts';
export * from './webhook.worker.ts';
