export * from './test-env.ts';
