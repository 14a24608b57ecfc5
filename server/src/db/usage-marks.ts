import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Database } from './schema.js';
import { nextTurn, powerOfTwoChunks, WriteBehind } from './write-behind.js';

/** Tables with a `last_used_at` column that use marks. */
export type UsageTable = 'mcp_instances' | 'connected_accounts' | 'mcp_oauth_grants';

/** last_used_at moves at most this often per row: a write a minute, not a write a call. */
export const USAGE_INTERVAL_MS = 60_000;
/** Marks are written this long after the first one of a batch. */
export const USAGE_FLUSH_MS = 1_000;
/** Rows remembered per process as recently marked; beyond this the memory starts over. */
const MAX_REMEMBERED = 200_000;
/**
 * Ids per UPDATE statement at most (a power of two, see powerOfTwoChunks). Marks land on rows
 * spread over the whole table, so on SQLite each costs about one page written (~45 µs here)
 * and one statement holds the event loop for its whole run: 64 ids keep that near 3 ms,
 * where 512 held it for 25-50 ms while a cold wave's marks were flushed.
 */
const IDS_PER_STATEMENT = 64;

type Pending = Record<UsageTable, Set<string>>;

const TABLES: readonly UsageTable[] = ['mcp_instances', 'connected_accounts', 'mcp_oauth_grants'];

/** When each table's rows were last marked or seen used, by row id. */
type MarkedAt = Record<UsageTable, Map<string, number>>;

const nothingMarked = (): MarkedAt => ({
  mcp_instances: new Map(),
  connected_accounts: new Map(),
  mcp_oauth_grants: new Map(),
});

const nothingPending = (): Pending => ({
  mcp_instances: new Set(),
  connected_accounts: new Set(),
  mcp_oauth_grants: new Set(),
});

/**
 * `last_used_at` off the hot path. A call notes its instance and account here and goes on;
 * the marks are written about a second later, one guarded UPDATE per table and 64 rows
 * (the event loop free between them), and a row already marked within the last minute (by
 * this process, or by another replica within the last 30 s: the guard in the WHERE clause)
 * is not written again.
 * Before this, the first call of every user each minute paid two synchronous writes. The
 * tradeoff: a crash loses at most the last second's marks, which are display-only; nothing
 * a call depends on. Readers of last_used_at in this process call `flush()` first, so they
 * see their own uses.
 */
export class UsageMarks {
  /**
   * A map per table keyed by the row id itself: a call's ids are strings its cached rows
   * hold, whose hashes V8 keeps, where a `table:id` key was a new string to build and hash
   * on every call (~2 µs a call for its two marks, and ~100 bytes a remembered row).
   */
  private markedAt = nothingMarked();
  private remembered = 0;
  private pending = nothingPending();
  private readonly writer: WriteBehind<Pending>;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: Clock;
      logger: Logger;
      /** Rows remembered at most, over all tables (MAX_REMEMBERED; tests set fewer). */
      maxRemembered?: number;
    },
  ) {
    this.writer = new WriteBehind(
      USAGE_FLUSH_MS,
      () => {
        const batch = this.pending;
        if (TABLES.every((table) => !batch[table].size)) return undefined;
        this.pending = nothingPending();
        return batch;
      },
      (batch) => this.write(batch),
    );
  }

  /** Records a use of a row; it reaches the database with the next flush, at most once a minute. */
  mark(table: UsageTable, id: string): void {
    const now = this.deps.clock.now();
    const last = this.markedAt[table].get(id);
    if (last !== undefined && now - last < USAGE_INTERVAL_MS) return;
    this.remember(table, id, now, last === undefined);
    this.pending[table].add(id);
    this.writer.schedule();
  }

  /** Marks noted and not yet handed to a write (the write-behind queue's depth, for /metrics). */
  get pendingCount(): number {
    return TABLES.reduce((sum, table) => sum + this.pending[table].size, 0);
  }

  /** Tells the marks when a row was last used as read from the database (saves a redundant write). */
  seen(table: UsageTable, id: string, lastUsedAt: string | null): void {
    if (!lastUsedAt || this.markedAt[table].has(id)) return;
    const at = Date.parse(lastUsedAt);
    if (!Number.isNaN(at)) this.remember(table, id, at, true);
  }

  /** Notes when a row was last used; past MAX_REMEMBERED rows in all, the memory starts over. */
  private remember(table: UsageTable, id: string, at: number, isNew: boolean): void {
    if (isNew) {
      if (this.remembered >= (this.deps.maxRemembered ?? MAX_REMEMBERED)) {
        this.markedAt = nothingMarked();
        this.remembered = 0;
      }
      this.remembered++;
    }
    this.markedAt[table].set(id, at);
  }

  /** Writes every mark so far; resolves once they (and earlier batches) are stored. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private async write(batch: Pending): Promise<void> {
    const now = this.deps.clock.now();
    const stamp = new Date(now).toISOString();
    // Half the interval: another replica's write within the last 30 s makes ours redundant,
    // while this process's own mark a minute after its last one (stored ~1 s late) still lands.
    const stale = new Date(now - USAGE_INTERVAL_MS / 2).toISOString();
    let statements = 0;
    for (const table of TABLES) {
      for (const chunk of powerOfTwoChunks([...batch[table]], IDS_PER_STATEMENT)) {
        if (statements++ > 0) await nextTurn();
        try {
          await this.deps.db
            .updateTable(table)
            .set({ last_used_at: stamp })
            .where('id', 'in', chunk)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', stale)]))
            .execute();
        } catch (error) {
          // Display-only timestamps: reported and dropped, never retried forever.
          this.deps.logger.warn({ err: error, table, rows: chunk.length }, 'last_used_at marks could not be written');
        }
      }
    }
  }
}
