// The dashboard's test harness: a dashboard on the test Redis, and the delivery scenario that
// fills its queues through the real gateway and workers.
export * from './captured-logs.ts';
export * from './dashboard.fixture.ts';
export * from './delivery-scenario.ts';
export * from './operator.ts';
export * from './redis-dump.ts';
