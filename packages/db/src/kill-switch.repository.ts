import type { Kysely } from 'kysely';
import type { Database, KillSwitch } from './database.ts';

type Db = Kysely<Database>;

/**
 * Switches a target off (`off: true`) or back on, saying who did. Switching on keeps the row, so
 * the last change and its author stay visible; the target must be in its stored form
 * (`parseKillSwitchTarget`). Returns the row as it now stands.
 */
export async function setKillSwitch(db: Db, target: string, off: boolean, changedBy: string): Promise<KillSwitch> {
  return db
    .insertInto('kill_switches')
    .values({ target, off, changed_by: changedBy })
    .onConflict((conflict) =>
      conflict.column('target').doUpdateSet((eb) => ({
        off: eb.ref('excluded.off'),
        changed_by: eb.ref('excluded.changed_by'),
        changed_at: eb.fn<Date>('now'),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every switch ever set, off or on again, by target. */
export async function listKillSwitches(db: Db): Promise<KillSwitch[]> {
  return db.selectFrom('kill_switches').selectAll().orderBy('target').execute();
}
