export * from './delivery.error.ts';
export type { DeliveryJobResult } from './delivery.processor.ts';
export * from './delivery.worker.ts';
export * from './dev-outbox.ts';
export type * from './sender.port.ts';
export type { SkipReason } from './skip-reason.ts';
export * from './template.helpers.ts';
export * from './worker.config.ts';
export * from './worker.process.ts';
