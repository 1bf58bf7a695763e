export * from './delivery.fixture.ts';
export * from './recording.sender.ts';
export * from './test-worker.ts';
