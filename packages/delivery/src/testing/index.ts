// Test set-up has one home per layer:
// - `@otp/testkit`: the environment (test databases, the Redis URL, queue prefixes) and edge fakes
// - `@otp/delivery/testing`: the worker pipeline (a database, a queue, workers with a recording sender)  <- this one
// - `@otp/gateway/testing`: the gateway in-process (`useTestGateway`) and the flows its tests repeat
// - `services/dashboard/src/testing`: the dashboard (`useTestDashboard`, `useDeliveryScenario`)
// - `test/e2e/system.ts`: the whole system as real processes
export * from './delivery.fixture.ts';
export * from './delivery-failure.ts';
export * from './log-capture.ts';
export * from './recording.sender.ts';
export * from './test-bed.ts';
export * from './test-worker.ts';
