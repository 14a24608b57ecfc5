import { CompiledQuery, type Expression, type Insertable, type Kysely, type SqlBool, sql } from 'kysely';
import type { Database, ToolCallLogsTable } from '../db/schema.js';
import { nextTurn, powerOfTwoChunks, WriteBehind } from '../db/write-behind.js';
import type { Logger } from '../logger.js';

export type ToolCallLogRow = Insertable<ToolCallLogsTable>;

/** How a tool-name filter matches: the whole name, its start, or any part of it. */
export type ToolNameMatch = 'exact' | 'prefix' | 'contains';

/**
 * A tool-name condition that means the same on both engines: case-insensitive (SQLite's LIKE
 * is, Postgres's is not, so both sides are lowered), and `_`, common in tool names, and `%`
 * taken literally rather than as wildcards.
 */
export function toolNameCondition(match: ToolNameMatch, value: string): Expression<SqlBool> {
  if (match === 'exact') return sql<SqlBool>`tool_name = ${value}`;
  const literal = value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  const pattern = match === 'prefix' ? `${literal}%` : `%${literal}%`;
  return sql<SqlBool>`lower(tool_name) like ${pattern} escape '\\'`;
}

/** A batch is written after this long, or sooner once it holds MAX_BATCH rows. */
export const FLUSH_INTERVAL_MS = 100;
const MAX_BATCH = 200;
/**
 * Rows per INSERT statement (a power of two, see powerOfTwoChunks): on SQLite one statement
 * holds the event loop for its whole run (~0.2 ms for 32 rows; 128 rows took 0.8 ms).
 */
const MAX_ROWS_PER_STATEMENT = 32;

/** Every column a row writes, in the order of the kept INSERT texts' parameters. */
const COLUMNS = [
  'id',
  'execution_id',
  'tool_name',
  'provider',
  'connection_id',
  'connection_name',
  'connected_account_id',
  'identifier',
  'status',
  'error_code',
  'error_message',
  'argument_summary',
  'duration_ms',
  'source',
  'attempt',
  'instance_id',
  'created_at',
] as const satisfies readonly (keyof ToolCallLogRow)[];

/** A column left out of a row gets the table's default: 1 for attempt, else null. */
function columnValue(row: ToolCallLogRow, column: (typeof COLUMNS)[number]): unknown {
  const value = row[column];
  if (value !== undefined) return value;
  return column === 'attempt' ? 1 : null;
}

/**
 * The audit log of tool calls, written in batches: a call appends its row here and returns,
 * and one multi-row INSERT per ~100 ms (or per 200 rows) writes them all. This takes the one
 * write off every call's path. The tradeoff: a crash loses at most the last ~100 ms of log
 * rows — never account or token state, which is written synchronously elsewhere. Readers in
 * this process call `flush()` first, so they always see their own calls; `close()` writes
 * what is left at shutdown.
 */
export class ToolCallLog {
  private pending: ToolCallLogRow[] = [];
  private readonly writer = new WriteBehind<ToolCallLogRow[]>(
    FLUSH_INTERVAL_MS,
    () => {
      if (!this.pending.length) return undefined;
      const batch = this.pending;
      this.pending = [];
      return batch;
    },
    (batch) => this.write(batch),
  );
  private closed = false;
  /**
   * The INSERT text for each chunk size (powers of two up to MAX_ROWS_PER_STATEMENT), built by
   * Kysely once: compiling a 32-row insert cost more CPU than SQLite spent running it.
   */
  private readonly insertTexts = new Map<number, string>();

  constructor(private readonly deps: { db: Kysely<Database>; logger: Logger }) {}

  record(row: ToolCallLogRow): void {
    if (this.closed) {
      void this.write([row]);
      return;
    }
    this.pending.push(row);
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.writer.schedule();
  }

  /** Rows recorded and not yet handed to a write (the write-behind queue's depth, for /metrics). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes every row recorded so far; resolves once they (and earlier batches) are stored. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Final flush at shutdown; rows recorded after it are written one by one. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async insert(rows: ToolCallLogRow[]): Promise<void> {
    let text = this.insertTexts.get(rows.length);
    if (text === undefined) {
      const placeholder = Object.fromEntries(COLUMNS.map((column) => [column, null])) as unknown as ToolCallLogRow;
      text = this.deps.db
        .insertInto('tool_call_logs')
        .values(rows.map(() => placeholder))
        .compile().sql;
      this.insertTexts.set(rows.length, text);
    }
    const parameters = rows.flatMap((row) => COLUMNS.map((column) => columnValue(row, column)));
    await this.deps.db.executeQuery(CompiledQuery.raw(text, parameters));
  }

  private async write(batch: ToolCallLogRow[]): Promise<void> {
    try {
      for (const [index, chunk] of powerOfTwoChunks(batch, MAX_ROWS_PER_STATEMENT).entries()) {
        if (index > 0) await nextTurn();
        await this.insert(chunk);
      }
    } catch (error) {
      // Audit rows only: a failed batch is reported and dropped rather than retried forever.
      this.deps.logger.warn({ err: error, rows: batch.length }, 'tool call log rows could not be written');
    }
  }
}
