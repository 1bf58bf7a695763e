// A statement built once runs every later call with that call's values (compiled-once.ts): the
// hot statements of the code request, the sign-in and the delivery workers rely on it.
import { sql } from '@otp/db';
import { useTestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { compiledOnce } from '../../packages/db/src/compiled-once.ts';

const database = useTestDatabase();

interface Pair {
  name: string;
  count: number | null;
}

describe('a statement compiled once', () => {
  it('runs each call with its own values, and properties of them, around the constants of its build', async () => {
    let builds = 0;
    const statement = compiledOnce(2, (_db, label: string, pair: Pair) => {
      builds += 1;
      return sql<{ label: string; name: string; count: number | null; fixed: string; again: string }>`
        SELECT ${label}::text AS label, ${pair.name}::text AS name, ${pair.count}::int AS count,
          ${'constant'}::text AS fixed, ${label}::text AS again`;
    });
    const first = await statement(database.db, 'one', { name: 'a', count: 1 });
    const second = await statement(database.db, 'two', { name: 'b', count: null });
    expect(first.rows).toEqual([{ label: 'one', name: 'a', count: 1, fixed: 'constant', again: 'one' }]);
    expect(second.rows).toEqual([{ label: 'two', name: 'b', count: null, fixed: 'constant', again: 'two' }]);
    expect(builds).toBe(1);
  });

  it('builds a query builder statement as well, and runs it on a transaction', async () => {
    const statement = compiledOnce(1, (db, id: string) => db.selectFrom('users').select('email').where('id', '=', id));
    const id = '00000000-0000-4000-8000-00000000c0de';
    await database.db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values({ id, email: 'compiled@example.test' }).execute();
      expect((await statement(trx, id)).rows).toEqual([{ email: 'compiled@example.test' }]);
    });
    expect((await statement(database.db, '00000000-0000-4000-8000-000000000000')).rows).toEqual([]);
  });

  it('refuses a build that leaves a value out of the parameters', () => {
    const statement = compiledOnce(2, (_db, used: string, _unused: string) => sql`SELECT ${used}::text AS used`);
    expect(() => statement(database.db, 'a', 'b')).toThrow('compiledOnce: 1 value(s) not a parameter');
  });
});
