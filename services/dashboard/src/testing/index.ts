// Test set-up has one home per layer:
// - `@otp/testkit`: the environment (test databases, the Redis URL, queue prefixes) and edge fakes
// - `@otp/delivery/testing`: the worker pipeline (a database, a queue, workers with a recording sender)
// - `@otp/gateway/testing`: the gateway in-process (`useTestGateway`) and the flows its tests repeat
// - `services/dashboard/src/testing`: the dashboard (`useTestDashboard`, `useDeliveryScenario`)  <- this one
// - `test/e2e/system.ts`: the whole system as real processes
// The dashboard's test harness: a dashboard on the test Redis, and the delivery scenario that
// fills its queues through the real gateway and workers.
export * from './captured-logs.ts';
export * from './dashboard.fixture.ts';
export * from './delivery-scenario.ts';
export * from './operator.ts';
export * from './redis-dump.ts';
