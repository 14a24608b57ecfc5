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
      window = { count: 0, resetAt: now + this.limit.seconds * 1000 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.limit.points) return { allowed: true };
    return { allowed: false, retryAfterMs: window.resetAt - now };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt > now && this.windows.size < this.maxKeys) return;
      this.windows.delete(key);
    }
  }
}
