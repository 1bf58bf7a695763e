export type { components, operations, paths } from './api.generated.ts';
export * from './client.ts';
export * from './errors.ts';
export * from './tokens.ts';
