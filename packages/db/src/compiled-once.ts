import { type Compilable, type CompiledQuery, createQueryId, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './database.ts';

/** Where the n-th value of a statement compiled once goes among its parameters. */
class Slot {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}

/**
 * A statement Kysely builds and compiles once, then runs with new values: for the hot statements
 * of the delivery workers, whose building (Kysely's operation tree, visited and frozen on every
 * call) cost more CPU than the rest of their Postgres client work. `build` receives the
 * first caller's database (for its query builder) and one placeholder per value and must pass each, unchanged, where Kysely makes it a parameter (a
 * `where`, `set`, `values` or `sql` value): the text and the other parameters are those of the
 * first build, each run substitutes its values for the placeholders. So the statement's shape must
 * not depend on the values: use one statement per shape (`compiledOnce` per shape key). Results
 * come back as `db.executeQuery` gives them (the same as `execute()`).
 */
export function compiledOnce<Args extends readonly unknown[], Row>(
  arity: Args['length'],
  build: (db: Kysely<Database>, ...values: Args) => Compilable<Row>,
): (db: Kysely<Database>, ...values: Args) => Promise<QueryResult<Row>> {
  let compiled: CompiledQuery<Row> | undefined;
  return (db, ...values) => {
    if (compiled === undefined) {
      const slots = Array.from({ length: arity }, (_, index) => new Slot(index)) as unknown as Args;
      const first = build(db, ...slots).compile();
      const used = new Set(first.parameters.flatMap((p) => (p instanceof Slot ? [p.index] : [])));
      if (used.size !== arity) throw new Error(`compiledOnce: ${arity - used.size} value(s) not a parameter`);
      compiled = first;
    }
    const parameters = compiled.parameters.map((p) => (p instanceof Slot ? values[p.index] : p));
    return db.executeQuery<Row>({ ...compiled, parameters, queryId: createQueryId() });
  };
}
