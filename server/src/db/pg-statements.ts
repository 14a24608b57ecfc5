import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** Distinct SQL texts given a name; past this, new texts run unnamed (each connection keeps a plan per name). */
export const MAX_NAMED_STATEMENTS = 200;
/** Texts run once so far, remembered to spot their second run; forgotten all at once past this. */
const MAX_SEEN_ONCE = 5_000;

/**
 * Which SQL texts run as named (prepared) statements: a text from its second run on, up to
 * MAX_NAMED_STATEMENTS texts, so a one-off (a migration, an admin's rare query) is never kept.
 * Names are never reused: a retired text gets a new one, and a connection that prepared the
 * old name simply never runs it again.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly seenOnce = new Set<string>();
  private next = 1;

  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined) return name;
    if (this.names.size >= MAX_NAMED_STATEMENTS) return undefined;
    if (!this.seenOnce.delete(text)) {
      if (this.seenOnce.size >= MAX_SEEN_ONCE) this.seenOnce.clear();
      this.seenOnce.add(text);
      return undefined;
    }
    const fresh = `switchboard_${this.next++}`;
    this.names.set(text, fresh);
    return fresh;
  }

  /** The text's statement can no longer run under its name (its plan went stale); the next run names it anew. */
  retire(text: string, name: string): void {
    if (this.names.get(text) !== name) return;
    this.names.delete(text);
    // Already known to run again and again: its next run prepares it under a new name.
    this.seenOnce.add(text);
  }

  get size(): number {
    return this.names.size;
  }
}

/**
 * A statement prepared before a table's columns changed (a replica's migration added one)
 * whose result would now differ: Postgres refuses to run it (SQLSTATE 0A000).
 */
function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

const TRANSACTION_START = /^\s*(begin|start\s+transaction)\b/i;
const TRANSACTION_END = /^\s*(commit|rollback|end|abort)\s*$/i;

/**
 * One pool client as Kysely sees it, running named statements. A statement whose plan went
 * stale (its result changed shape) is run again unnamed outside a transaction, where the
 * failure changed nothing. Inside one, Postgres has already aborted the transaction: so there
 * `*` statements, the ones an added column changes, are never prepared, and any other stale
 * statement (a column's type changed) fails that transaction once and is named anew.
 */
class NamingClient implements PostgresPoolClient {
  private inTransaction = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly names: StatementNames,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      return (this.client as unknown as { query(cursor: PostgresCursor<R>): PostgresCursor<R> }).query(sqlOrCursor);
    }
    return this.run<R>(sqlOrCursor, parameters ?? []);
  }

  private async run<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    const values = parameters as unknown[];
    let name: string | undefined;
    if (TRANSACTION_START.test(text)) this.inTransaction = true;
    else if (TRANSACTION_END.test(text)) this.inTransaction = false;
    // A `*` (select *, returning *) in a transaction runs unprepared: after another replica's
    // migration adds a column, a prepared one fails, and a failed statement aborts the transaction.
    else if (!(this.inTransaction && text.includes('*'))) name = this.names.nameFor(text);
    if (name === undefined) return this.result(await this.client.query(text, values));
    try {
      return this.result(await this.client.query({ name, text, values }));
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      this.names.retire(text, name);
      if (this.inTransaction) throw error;
      return this.result(await this.client.query(text, values));
    }
  }

  private result<R>(result: pg.QueryResult): PostgresQueryResult<R> {
    return result as unknown as PostgresQueryResult<R>;
  }

  release(destroy?: boolean): void {
    this.inTransaction = false;
    this.client.release(destroy);
  }
}

/**
 * The pool as Kysely gets it, with statements prepared once per connection: node-postgres
 * sends every query unnamed, so Postgres parses and plans it on each run, and planning the
 * cold MCP lookup's five-table join cost several times its execution (bench/ measured
 * 0.69–0.76 ms of backend CPU per lookup unnamed, 0.13–0.16 ms named). Off with
 * `SWITCHBOARD_PG_PREPARED_STATEMENTS=false` for a pooler that cannot carry named statements
 * across its server connections (PgBouncer in transaction mode before 1.21).
 */
export function withNamedStatements(pool: pg.Pool): PostgresPool {
  const names = new StatementNames();
  const clients = new WeakMap<pg.PoolClient, NamingClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let naming = clients.get(client);
      if (!naming) {
        naming = new NamingClient(client, names);
        clients.set(client, naming);
      }
      return naming;
    },
    end: () => pool.end(),
  };
}
