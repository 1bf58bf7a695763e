export * from './delivery.fixture.ts';
export * from './log-capture.ts';
export * from './recording.sender.ts';
export * from './test-bed.ts';
export * from './test-worker.ts';
