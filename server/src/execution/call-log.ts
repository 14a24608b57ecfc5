import { type Expression, type Insertable, type Kysely, type SqlBool, sql } from 'kysely';
import type { Database, ToolCallLogsTable } from '../db/schema.js';
import { powerOfTwoChunks, WriteBehind } from '../db/write-behind.js';
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

  private async write(batch: ToolCallLogRow[]): Promise<void> {
    try {
      for (const [index, chunk] of powerOfTwoChunks(batch, MAX_ROWS_PER_STATEMENT).entries()) {
        // SQLite runs on the event loop: requests that arrived meanwhile go before the next chunk.
        if (index > 0) await new Promise((resolve) => setImmediate(resolve));
        await this.deps.db.insertInto('tool_call_logs').values(chunk).execute();
      }
    } catch (error) {
      // Audit rows only: a failed batch is reported and dropped rather than retried forever.
      this.deps.logger.warn({ err: error, rows: batch.length }, 'tool call log rows could not be written');
    }
  }
}
