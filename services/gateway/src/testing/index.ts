// The gateway's test harness, for its own tests and for other services' tests (as
// `@otp/gateway/testing`): a gateway on the test Postgres and Redis, and the flows tests repeat.
export * from './accounts.ts';
export * from './bad-input.ts';
export * from './delivered-code.ts';
export * from './factors.ts';
export * from './flows.ts';
export * from './gateway.fixture.ts';
export * from './gateway.harness.ts';
export * from './test-factors.ts';
export * from './twilio-callback.ts';
