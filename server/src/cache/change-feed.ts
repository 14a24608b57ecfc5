import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ScopedCache } from './scoped-cache.js';

/**
 * What a cached value depends on. `mcp`: connections, configs, mappings, instances.
 * `accounts`: a connected account's existence or status (not token refreshes, which
 * caches check by token_version instead).
 */
export type ChangeScope = 'mcp' | 'accounts';

/** How stale another replica's change may be here, at most. */
export const DEFAULT_POLL_MS = 250;

/**
 * Cache invalidation across replicas through the `change_versions` table: a write bumps
 * its scope's version after it commits and empties this process's caches at once; every
 * process reads the versions at most every `pollMs` (lazily, on the next request that
 * uses a cache) and empties the caches of a scope whose version moved. Works the same on
 * SQLite (processes sharing a file) and Postgres (replicas), and needs no listener
 * connection. Caches are only caches: a process with none behaves the same, slower.
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

  /** A cache emptied whenever one of `scopes` changes, here or on another replica. */
  cache<K, V>(scopes: ChangeScope[], maxEntries: number): ScopedCache<K, V> {
    const cache = new ScopedCache<K, V>(maxEntries);
    this.registered.push(cache as ScopedCache<unknown, unknown>);
    for (const scope of scopes) {
      const list = this.caches.get(scope) ?? [];
      list.push(cache as ScopedCache<unknown, unknown>);
      this.caches.set(scope, list);
    }
    return cache;
  }

  /** Every cache made here, in the order they were made (the composition root's test counts them). */
  get allCaches(): readonly ScopedCache<unknown, unknown>[] {
    return this.registered;
  }

  private clear(scope: string): void {
    for (const cache of this.caches.get(scope as ChangeScope) ?? []) cache.clear();
  }

  /** Call after a committed write: this process forgets now, the others at their next poll. */
  async changed(scope: ChangeScope): Promise<void> {
    this.clear(scope);
    await this.deps.db
      .insertInto('change_versions')
      .values({ scope, version: 1 })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ version: sql<number>`change_versions.version + 1` }))
      .execute();
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
