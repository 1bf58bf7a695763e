export { Kysely, sql } from 'kysely';
export * from './connection.ts';
export type * from './database.ts';
export * from './delivery-attempt.repository.ts';
export * from './delivery-outbox.repository.ts';
export * from './otp-challenge.repository.ts';
export * from './otp-recipient-window.repository.ts';
export * from './refresh-token.repository.ts';
export * from './user.repository.ts';
