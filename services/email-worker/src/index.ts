export * from './config.ts';
export * from './templates/account-exists.template.ts';
export * from './templates/notices/notice.templates.ts';
export * from './templates/otp-code.template.ts';
export * from './transports/dev-outbox.sender.ts';
export * from './transports/smtp.classify.ts';
export * from './transports/smtp.sender.ts';
export * from './worker.ts';
