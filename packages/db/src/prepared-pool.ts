import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';

const { DatabaseError } = pg;

const MAX_NAMED_TEXTS = 10_000;

/**
 * Marks a statement as *write-behind*: its caller needs no result from it, only that it commits
 * with its transaction or not at all. Put first in the statement's text (it is a comment, so any
 * other pool runs the statement as it is). See `guardedPool` for what the prepared pool does with it.
 */
export const WRITE_BEHIND = '/* write-behind */ ';

/**
 * Wraps a pg pool so that every parameterised query runs as a named prepared statement (named
 * after a hash of its text): Postgres then parses and plans each distinct statement once per
 * connection instead of on every call. `pnpm bench` measured the request endpoint at about 1.7x
 * the throughput with it, Postgres' planning having been the largest cost per request. Queries
 * without parameters (BEGIN, COMMIT, DDL in migrations) run as they are. It also keeps broken
 * connections out of the pool (see below).
 */
export function preparedStatementPool(pool: pg.Pool): PostgresPool {
  // Without pg's pipeline mode a second query waits for the first's answer before it is written:
  // the statements below would still be right, only not sent together.
  const pipelined = (pool.options as { pipeline?: boolean }).pipeline === true;
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    const known = names.get(text);
    if (known !== undefined) return known;
    const name = `k${createHash('sha1').update(text).digest('base64url')}`;
    if (names.size < MAX_NAMED_TEXTS) names.set(text, name);
    return name;
  };
  return guardedPool(pool, nameOf, pipelined);
}

/**
 * The same pool without the names, for a transaction-mode pooler (DATABASE_POOLER=transaction):
 * a named statement is prepared on one server connection, and the pooler may run the next use on
 * another, where it does not exist (or already exists under another client's use). Parameterised
 * queries go as pg's unnamed extended protocol (Parse, Bind, Execute, Sync in one message), which
 * a pooler passes as a unit.
 */
export function unnamedStatementPool(pool: pg.Pool): PostgresPool {
  return guardedPool(pool, undefined, false);
}

type Values = readonly unknown[] | undefined;
type Settled = { ok: true; value: pg.QueryResult } | { ok: false; error: unknown };

/**
 * `pipelined` (pg's pipeline mode on the pool's clients): a transaction's `BEGIN` and its
 * write-behind statements are not sent on their own but held, and written in one go with the
 * next statement whose answer is awaited, so they cost no round trip of their own:
 *
 * - `BEGIN` travels with the transaction's first statement. Postgres runs the messages in order,
 *   so that statement runs inside the transaction. A `BEGIN` can fail only when the session can
 *   run nothing (its connection lost, or inside a transaction that failed), and then the statement
 *   behind it fails as well; should `BEGIN` ever fail alone, the statement's error is not what
 *   the caller sees: the `BEGIN`'s is, and the connection is dropped.
 * - A write-behind statement (`WRITE_BEHIND`) travels with the next statement, usually the
 *   `COMMIT`. Its answer is awaited with that statement's, and its error is thrown instead of that
 *   statement's result: a failed write-behind aborts the transaction, whose `COMMIT` then rolls it
 *   back (Postgres answers it `ROLLBACK`), so the change is kept whole or not at all, as when it
 *   was awaited on its own. Its caller gets an empty result at once.
 * - A `ROLLBACK` drops what is held: a held `BEGIN` was never sent (there is nothing to roll back),
 *   a held write-behind would be rolled back anyway.
 *
 * Outside a transaction a write-behind statement runs as any other (there is nothing to hold it
 * for). Through a transaction pooler nothing is held (`unnamedStatementPool`).
 */
function guardedPool(pool: pg.Pool, nameOf: ((text: string) => string) | undefined, pipelined: boolean): PostgresPool {
  const guarded = new WeakSet<pg.PoolClient>();
  return {
    options: pool.options,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // pg listens for errors only on idle clients: a connection lost while a query runs emits
      // 'error' on a checked-out client, which would crash the process. The query in flight is
      // rejected with the same error, which is where it is handled; the pool then drops the client.
      if (!guarded.has(client)) {
        guarded.add(client);
        client.on('error', () => {});
      }
      // A query that failed on the client side (read timeout, lost connection) leaves the
      // connection in an unknown state: a late answer would be taken for the next query's. Such a
      // client is destroyed on release instead of going back to the pool. Errors Postgres itself
      // reports (a SQLSTATE code) leave the connection healthy.
      let broken: Error | undefined;
      const noteBroken = (error: unknown) => {
        if (!(error instanceof DatabaseError)) broken = error as Error;
        throw error;
      };
      const send = (text: string, values: Values): Promise<pg.QueryResult> => {
        if (nameOf === undefined || values === undefined || values.length === 0) {
          return client.query(text, values === undefined ? undefined : [...values]);
        }
        // A Query made from the text and named after it, not `{ name, text, values }`: pg copies
        // a config object property by property on every call, a cost `pnpm bench` profiles showed
        // on every statement.
        return new Promise((resolve, reject) => {
          const query = new pg.Query(text, [...values]) as pg.Query & {
            name: string;
            callback: (error: Error | null, result: pg.QueryResult) => void;
          };
          query.name = nameOf(text);
          query.callback = (error: Error | null, result: pg.QueryResult) => (error ? reject(error) : resolve(result));
          client.query(query);
        });
      };
      const direct = (text: unknown, values?: Values) => send(text as string, values).catch(noteBroken);
      // What is held for the next statement (pipelined only), and whether a transaction is open.
      const held: Array<{ text: string; values: Values }> = [];
      let inTransaction = false;
      const answered = (command: string): pg.QueryResult =>
        ({ command, rowCount: null, rows: [], fields: [], oid: 0 }) as unknown as pg.QueryResult;
      const withHeld = async (text: string, values: Values): Promise<pg.QueryResult> => {
        // One write for all of them: pg corks the socket around each query's messages; this cork
        // holds them until the last is queued.
        const { stream } = (client as unknown as { connection: { stream: Writable } }).connection;
        const statements = [...held.splice(0), { text, values }];
        const sent: Array<Promise<Settled>> = [];
        stream.cork();
        try {
          for (const statement of statements) {
            sent.push(
              send(statement.text, statement.values).then(
                (value): Settled => ({ ok: true, value }),
                (error: unknown): Settled => ({ ok: false, error }),
              ),
            );
          }
        } finally {
          stream.uncork();
        }
        const settled = await Promise.all(sent);
        const failed = settled.findIndex((outcome) => !outcome.ok);
        const last = settled[settled.length - 1] as Settled;
        if (failed === -1 && last.ok) return last.value;
        const first = settled[failed] as { ok: false; error: unknown };
        // A BEGIN that failed while what followed it ran: the connection is not what its error
        // says (that statement ran outside a transaction); it is not used again.
        if (statements[failed]?.text === 'begin' && last.ok) broken = first.error as Error;
        return noteBroken(first.error);
      };
      const query = (text: unknown, values?: Values) => {
        if (!pipelined || typeof text !== 'string') return direct(text, values);
        if (text === 'begin') {
          inTransaction = true;
          held.push({ text, values });
          return Promise.resolve(answered('BEGIN'));
        }
        if (inTransaction && text.startsWith(WRITE_BEHIND)) {
          held.push({ text, values });
          return Promise.resolve(answered('WRITE_BEHIND'));
        }
        if (text === 'commit' || text === 'rollback') inTransaction = false;
        if (text === 'rollback' && held.length > 0) {
          const begunHere = held[0]?.text === 'begin';
          held.length = 0;
          if (begunHere) return Promise.resolve(answered('ROLLBACK'));
        }
        return held.length > 0 ? withHeld(text, values) : direct(text, values);
      };
      return {
        processID: (client as unknown as { processID?: number }).processID,
        query: query as unknown as PostgresPoolClient['query'],
        release: () => {
          // Something held and never sent: the work ended without its COMMIT or ROLLBACK.
          if (held.length > 0) broken ??= new Error('statements held for a transaction were never sent');
          held.length = 0;
          inTransaction = false;
          client.release(broken);
        },
      };
    },
    end: () => pool.end(),
  };
}
