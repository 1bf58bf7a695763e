// Test set-up has one home per layer:
// - `@otp/testkit`: the environment (test databases, the Redis URL, queue prefixes) and edge fakes
// - `@otp/delivery/testing`: the worker pipeline (a database, a queue, workers with a recording sender)
// - `@otp/gateway/testing`: the gateway in-process (`useTestGateway`) and the flows its tests repeat  <- this one
// - `services/dashboard/src/testing`: the dashboard (`useTestDashboard`, `useDeliveryScenario`)
// - `test/e2e/system.ts`: the whole system as real processes
// The gateway's test harness, for its own tests and for other services' tests (as
// `@otp/gateway/testing`): a gateway on the test Postgres and Redis, and the flows tests repeat.
export * from './accounts.ts';
export * from './admin.ts';
export * from './admin-api.ts';
export * from './bad-input.ts';
export * from './delivered-code.ts';
export * from './factors.ts';
export * from './flows.ts';
export * from './gateway.fixture.ts';
export * from './gateway.harness.ts';
export * from './listening-gateway.ts';
export * from './messages.ts';
export * from './personal-data.ts';
export * from './test-factors.ts';
export * from './twilio-callback.ts';
