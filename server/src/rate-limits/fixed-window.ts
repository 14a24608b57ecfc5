import { OldestFirst } from '../cache/oldest-first.js';
import type { RateLimit } from '../config.js';

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Fixed-window counters for one limit, in this process, in bounded memory: at most `maxKeys`
 * windows. A key's window is (re)inserted when it starts, and every window of one counter has
 * the same length, so the Map's insertion order is the order windows end in: expired ones
 * are swept from the front, and when all `maxKeys` are live the oldest goes (its key starts
 * over — only an attacker spreading over more addresses than that gains anything from it).
 */
export class FixedWindowCounter {
  private readonly windows = new Map<string, Window>();
  private readonly oldest = new OldestFirst(this.windows);
  /** When expired windows are next swept out (see sweep). */
  private sweepAt = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxKeys = 50_000,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** Counts one hit on `key`; answers how long to wait when that was over the limit. */
  hit(key: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.delete(key);
      this.sweep(now);
      if (this.windows.size >= this.maxKeys) this.oldest.evict();
      window = { count: 0, resetAt: now + this.limit.seconds * 1000 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.limit.points) return { allowed: true };
    return { allowed: false, retryAfterMs: window.resetAt - now };
  }

  /**
   * Drops the expired windows at the front, at most once a tenth of a window. A walk from the
   * front passes every slot a deleted window left there, so walking at each new window cost
   * a flood of new keys about 60 µs a hit at 50,000 windows (OldestFirst); between sweeps the
   * cap bounds the memory, and expired windows are at most a tenth of a window late to go.
   */
  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + this.limit.seconds * 100;
    for (const [key, window] of this.windows) {
      if (window.resetAt > now) return;
      this.windows.delete(key);
    }
  }
}
