// Test set-up has one home per layer:
// - `@otp/testkit`: the environment (test databases, the Redis URL, queue prefixes) and edge fakes  <- this one
// - `@otp/delivery/testing`: the worker pipeline (a database, a queue, workers with a recording sender)
// - `@otp/gateway/testing`: the gateway in-process (`useTestGateway`) and the flows its tests repeat
// - `services/dashboard/src/testing`: the dashboard (`useTestDashboard`, `useDeliveryScenario`)
// - `test/e2e/system.ts`: the whole system as real processes
export * from './codes.ts';
export * from './database.fixture.ts';
export * from './fixture.ts';
export * from './otlp-receiver.ts';
export * from './pgbouncer.ts';
export * from './prometheus.ts';
export * from './redis-server.ts';
export * from './service-process.ts';
export * from './siteverify-fake.ts';
export * from './smtp-sink.ts';
export * from './tcp-proxy.ts';
export * from './test-certificates.ts';
export * from './test-env.ts';
export * from './twilio-fake.ts';
export * from './twilio-status-callback.ts';
export * from './webhook-receiver.ts';
