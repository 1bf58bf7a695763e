import {
  type Compilable,
  type CompiledQuery,
  createQueryId,
  type Kysely,
  type QueryResult,
  type RawBuilder,
} from 'kysely';
import type { Database } from './database.ts';

/** Where one parameter of a statement compiled once comes from: the n-th value, or a property of it. */
type Source = { index: number; key: string | undefined };

/**
 * A statement Kysely builds and compiles once, then runs with new values: for the hot statements
 * of the delivery workers and of the gateway's code request and sign-in, whose building (Kysely's
 * operation tree, visited and frozen on every call, a raw `sql` template's as much as a query
 * builder's) cost more CPU and memory than the rest of their Postgres client work.
 *
 * `build` receives the first caller's database (for its query builder) and one placeholder per
 * value, and must pass each placeholder, or a property of one (`row.id`: a value that is an object
 * of the statement's fields), unchanged where Kysely makes it a parameter (a `where`, `set`,
 * `values` or `sql` value). The text and the other parameters are those of the first build; each
 * run substitutes its values, or their properties, for the placeholders. So the statement's shape
 * must not depend on the values: use one statement per shape (`compiledOnce` per shape key), and
 * never test, spread or default a placeholder in `build` (`row.template ?? 'x'` is the placeholder
 * itself: give the default in the values). Results come back as `db.executeQuery` gives them (the
 * same as `execute()`).
 */
export function compiledOnce<Args extends readonly unknown[], Row>(
  arity: Args['length'],
  build: (db: Kysely<Database>, ...values: Args) => Compilable<Row> | RawBuilder<Row>,
): (db: Kysely<Database>, ...values: Args) => Promise<QueryResult<Row>> {
  let compiled: CompiledQuery<Row> | undefined;
  // Per parameter of the compiled statement: where its value comes from, or undefined (a constant).
  let sources: Array<Source | undefined> = [];
  return (db, ...values) => {
    if (compiled === undefined) {
      const placed = new Map<unknown, Source>();
      const placeholder = (index: number, key?: string): object => {
        // A property read of a placeholder is a placeholder of that property (only one level).
        const made: object =
          key === undefined
            ? new Proxy(Object.create(null), {
                get: (_, property) => (typeof property === 'string' ? placeholder(index, property) : undefined),
              })
            : Object.freeze(Object.create(null));
        placed.set(made, { index, key });
        return made;
      };
      const slots = Array.from({ length: arity }, (_, index) => placeholder(index)) as unknown as Args;
      const built = build(db, ...slots);
      const first = 'isRawBuilder' in built ? built.compile(db) : built.compile();
      sources = first.parameters.map((parameter) => placed.get(parameter));
      const used = new Set(sources.flatMap((source) => (source === undefined ? [] : [source.index])));
      if (used.size !== arity) throw new Error(`compiledOnce: ${arity - used.size} value(s) not a parameter`);
      compiled = first;
    }
    const constants = compiled.parameters;
    const parameters = sources.map((source, i) => {
      if (source === undefined) return constants[i];
      const value = values[source.index] as Record<string, unknown>;
      return source.key === undefined ? value : value[source.key];
    });
    return db.executeQuery<Row>({ ...compiled, parameters, queryId: createQueryId() });
  };
}
