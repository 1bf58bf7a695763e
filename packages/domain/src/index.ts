export * from './challenge.ts';
export * from './config.ts';
export * from './envelope.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './otp-code.ts';
export * from './queue-contract.ts';
export * from './recipient.ts';
