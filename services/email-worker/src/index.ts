export * from './config.ts';
export * from './templates/email.templates.ts';
export * from './transports/dev-outbox.sender.ts';
export * from './transports/smtp.classify.ts';
export * from './transports/smtp.sender.ts';
export * from './worker.ts';
