import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { DEFAULT_MAX_AGE_MS, ScopedCache } from './scoped-cache.js';

/**
 * What a cached value depends on. `mcp`: connections, configs, mappings, instances.
 * `accounts`: a connected account's existence or status (not token refreshes, which
 * caches check by token_version instead). `clients`: a management client's revocation,
 * secret rotation, or an MCP session-token revocation.
 */
export type ChangeScope = 'mcp' | 'accounts' | 'clients';

/** A scope's version as a commit left it. */
export interface ScopeVersion {
  scope: string;
  version: number;
}

/** How stale another replica's change may be here, at most. */
export const DEFAULT_POLL_MS = 250;

/** How often expired cache entries are dropped (ChangeFeed.startSweeping). */
export const SWEEP_INTERVAL_MS = 10_000;
/**
 * Entries dropped per cache and sweep, at most: ~0.1 µs each, so a sweep holds the event loop
 * well under a millisecond, and a burst of 100,000 users leaves memory within a few minutes.
 */
export const SWEEP_LIMIT = 5_000;

/**
 * Cache invalidation across replicas through the `change_versions` table: a write bumps
 * its scope's version in the same transaction as the write (`write`, or `changedIn` inside
 * a transaction the caller runs), so the two commit together or not at all, and this
 * process empties its caches once it committed; every process reads the versions at most
 * every `pollMs` (lazily, on the next request that uses a cache) and empties the caches of
 * a scope whose version moved. Works the same on SQLite (processes sharing a file) and
 * Postgres (replicas), and needs no listener connection. Every cache entry also expires
 * after its cache's max age (60 s by default), the bound for a change that never went
 * through the feed. Caches are only caches: a process with none behaves the same, slower.
 */
export class ChangeFeed {
  private readonly versions = new Map<string, number>();
  private readonly caches = new Map<ChangeScope, ScopedCache<unknown, unknown>[]>();
  private readonly registered: ScopedCache<unknown, unknown>[] = [];
  private checkedAt = Number.NEGATIVE_INFINITY;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly deps: { db: Kysely<Database>; clock: Clock },
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {}

  /**
   * A cache emptied whenever one of `scopes` changes, here or on another replica. `name` is
   * its `cache` label in /metrics (by default its scopes).
   */
  cache<K, V>(
    scopes: ChangeScope[],
    maxEntries: number,
    options: { maxAgeMs?: number; name?: string } = {},
  ): ScopedCache<K, V> {
    const name = options.name ?? (scopes.join('_') || 'unscoped');
    const cache = new ScopedCache<K, V>(maxEntries, this.deps.clock, options.maxAgeMs ?? DEFAULT_MAX_AGE_MS, name);
    this.registered.push(cache as ScopedCache<unknown, unknown>);
    for (const scope of scopes) {
      const list = this.caches.get(scope) ?? [];
      list.push(cache as ScopedCache<unknown, unknown>);
      this.caches.set(scope, list);
    }
    return cache;
  }

  /** Drops expired entries of every cache, at most `limitPerCache` from each (ScopedCache.sweep); returns how many. */
  sweep(limitPerCache?: number): number {
    let dropped = 0;
    for (const cache of this.registered) dropped += cache.sweep(limitPerCache);
    return dropped;
  }

  /**
   * Sweeps every `intervalMs` until the returned function is called: an entry nobody looks
   * up again leaves memory within about one interval of its expiry. The timer never keeps
   * the process alive.
   */
  startSweeping(intervalMs = SWEEP_INTERVAL_MS, limitPerCache = SWEEP_LIMIT): () => void {
    const timer = setInterval(() => this.sweep(limitPerCache), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Every cache made here, in the order they were made (the composition root's test counts them). */
  get allCaches(): readonly ScopedCache<unknown, unknown>[] {
    return this.registered;
  }

  private clear(scope: string): void {
    for (const cache of this.caches.get(scope as ChangeScope) ?? []) cache.clear();
  }

  /**
   * Runs `work` and the version bump of `scopes` in one transaction; once it committed,
   * this process forgets at once and the others at their next poll. A failure anywhere
   * rolls back the write and the bump together.
   */
  async write<T>(scopes: ChangeScope[], work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    let bumped: ScopeVersion[] = [];
    const result = await this.deps.db.transaction().execute(async (trx) => {
      const value = await work(trx);
      bumped = await this.changedIn(trx, scopes);
      return value;
    });
    this.forget(scopes, bumped);
    return result;
  }

  /**
   * Bumps `scopes` inside the caller's transaction, after its writes (the version rows stay
   * locked only until the commit), and returns the new versions. Call `forget(scopes,
   * versions)` once the transaction committed.
   */
  async changedIn(trx: Transaction<Database>, scopes: ChangeScope[]): Promise<ScopeVersion[]> {
    // One statement, scopes sorted: concurrent writers lock the version rows in one order.
    const values = [...new Set(scopes)].sort().map((scope) => ({ scope, version: 1 }));
    if (!values.length) return [];
    const rows = await trx
      .insertInto('change_versions')
      .values(values)
      .onConflict((oc) => oc.column('scope').doUpdateSet({ version: sql<number>`change_versions.version + 1` }))
      .returning(['scope', 'version'])
      .execute();
    return rows.map((row) => ({ scope: row.scope, version: Number(row.version) }));
  }

  /**
   * Empties this process's caches of `scopes` now (after a commit that bumped them). With the
   * versions that commit wrote, the next poll does not empty them a second time: every
   * earlier version committed before this one (the bump locks the version row), so this
   * emptying already covers them.
   */
  forget(scopes: ChangeScope[], committed: ScopeVersion[] = []): void {
    for (const scope of scopes) this.clear(scope);
    for (const { scope, version } of committed) {
      if (version > (this.versions.get(scope) ?? Number.NEGATIVE_INFINITY)) this.versions.set(scope, version);
    }
  }

  /** Catches up with other processes' changes when the last look is older than pollMs. */
  async sync(): Promise<void> {
    if (this.deps.clock.now() - this.checkedAt < this.pollMs) return;
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    await this.polling;
  }

  private async poll(): Promise<void> {
    const startedAt = this.deps.clock.now();
    const rows = await this.deps.db.selectFrom('change_versions').select(['scope', 'version']).execute();
    for (const row of rows) {
      const version = Number(row.version);
      if (this.versions.get(row.scope) !== version) {
        this.versions.set(row.scope, version);
        this.clear(row.scope);
      }
    }
    this.checkedAt = startedAt;
  }
}
