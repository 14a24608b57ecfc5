import type { Clock } from '../clock.js';
import { OldestFirst } from './oldest-first.js';

/**
 * How long a cached value may be served without a reload, at most. The change feed empties
 * caches within a poll of a write; this age is the backstop for a change that never went
 * through the feed (a write made by hand in the database, a process that died mid-way), so
 * no replica serves such a value for longer than this.
 */
export const DEFAULT_MAX_AGE_MS = 60_000;

/**
 * Each entry lives between (1 − AGE_SPREAD) and 1 times the max age, drawn when it is stored.
 * Entries loaded in the same second (after a restart, a clear, a burst of new users) would
 * otherwise all expire in the same second again, every max age, and their reloads with them.
 */
export const AGE_SPREAD = 0.25;

/**
 * A bounded in-process map that a ChangeFeed empties when its scope changes, and whose
 * entries expire at most `maxAgeMs` after they were stored (see AGE_SPREAD). Loads race with
 * invalidation, so a value is stored only if no clear happened since its load began (the caller passes the
 * `generation` it read before loading).
 */
export class ScopedCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly oldest = new OldestFirst(this.entries);
  private epoch = 0;
  /** Lookups since start, read by /metrics (plain numbers: a lookup stays two field writes cheap). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
    readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
    /** What the cache holds, as the `cache` label of its metrics. */
    readonly name = 'unnamed',
  ) {}

  /** Read before loading; pass to `set` so a value loaded before a clear is not kept. */
  get generation(): number {
    return this.epoch;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    if (this.clock.now() >= entry.expiresAt) {
      this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return entry.value;
  }

  set(key: K, value: V, generation: number): void {
    if (generation !== this.epoch) return;
    // A key stored again moves to the end, so the map stays in the order entries were stored
    // (the order `sweep` relies on).
    // Oldest insertion first: cheap, and a hot entry comes back on its next miss.
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) this.oldest.evict();
    const age = this.maxAgeMs * (1 - AGE_SPREAD * Math.random());
    this.entries.set(key, { value, expiresAt: this.clock.now() + age });
  }

  /**
   * Drops the expired entries nobody looked up again, so what they hold (decrypted tokens
   * among them) leaves memory within a sweep of its max age, rather than staying until newer
   * entries push it out. Walks from the oldest entry and stops at the first one stored too
   * recently for any later entry to have expired: an entry lives between (1 − AGE_SPREAD) and
   * 1 times the max age, so the walk reads the expired entries and at most that spread's worth
   * of live ones. At most `limit` entries go in one sweep, so one sweep never holds the event
   * loop for long after a burst of users. Returns how many it dropped.
   */
  sweep(limit = Number.POSITIVE_INFINITY): number {
    const now = this.clock.now();
    const spread = this.maxAgeMs * AGE_SPREAD;
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (dropped >= limit) break;
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        dropped++;
      } else if (entry.expiresAt - spread > now) {
        break;
      }
    }
    return dropped;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.epoch++;
  }
}
