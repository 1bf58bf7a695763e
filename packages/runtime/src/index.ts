export * from './env.ts';
export * from './http-metrics.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './ops-server.ts';
export * from './redis.ts';
export * from './shutdown.ts';
export * from './tracing.ts';
