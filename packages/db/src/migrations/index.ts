import type { Migration } from 'kysely/migration';
import * as initial from './2026_11_22_0001_initial.ts';

/** Every migration, by name; names sort in the order they run. Add new ones at the end. */
export const migrations: Record<string, Migration> = {
  '2026_11_22_0001_initial': initial,
};
