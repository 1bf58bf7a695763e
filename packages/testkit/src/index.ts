export * from './codes.ts';
export * from './redis-server.ts';
export * from './service-process.ts';
export * from './smtp-sink.ts';
export * from './tcp-proxy.ts';
export * from './test-env.ts';
export * from './twilio-fake.ts';
export * from './twilio-status-callback.ts';
