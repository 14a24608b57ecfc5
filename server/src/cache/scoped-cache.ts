/**
 * A bounded in-process map that a ChangeFeed empties when its scope changes. Loads race
 * with invalidation, so a value is stored only if no clear happened since its load began
 * (the caller passes the `generation` it read before loading).
 */
export class ScopedCache<K, V> {
  private readonly entries = new Map<K, V>();
  private epoch = 0;

  constructor(private readonly maxEntries: number) {}

  /** Read before loading; pass to `set` so a value loaded before a clear is not kept. */
  get generation(): number {
    return this.epoch;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V, generation: number): void {
    if (generation !== this.epoch) return;
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      // Oldest insertion first: cheap, and a hot entry comes back on its next miss.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.epoch++;
  }
}
