export * from './config.ts';
export * from './templates/otp-code.template.ts';
export * from './transports/dev-outbox.sender.ts';
export * from './transports/twilio.classify.ts';
export * from './transports/twilio.sender.ts';
export * from './transports/twilio-request.client.ts';
export * from './worker.ts';
