import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Lookups by key asked for close together, run together as one query: keys gather until
 * the turn's check phase (setImmediate), then go out `maxKeys` at most a query, and each
 * caller gets the rows of its own key. While `maxRunning` of its queries are out, keys go on
 * gathering and leave when one comes back. A lone lookup waits for nothing but the end of
 * the turn it was asked in.
 *
 * Why: a query's fixed cost (a round trip, the driver's and the server's work per
 * statement) is most of a cold lookup on Postgres, and concurrent first calls of different
 * users ask for their lookups in the same turns. Holding the next query back while one is
 * out makes a batch grow with the load: under a burst of cold calls every round trip
 * carries what arrived during the previous one, so the queries per call fall as the calls
 * per second rise. SQLite runs a query within the turn that sends it, so there a batch never
 * waits for one: only a turn's keys past `maxKeys` leave a turn later.
 *
 * Rows are told apart by `keyOf`; a row whose key nobody asked for is dropped. A failed
 * query fails every lookup it carried, and the keys that gathered behind it still go out.
 * While statements are traced, a shared query's span belongs to the request that asked
 * first among those waiting when it left.
 */
export class BatchedLookup<Row> {
  private waiting = new Map<string, Waiter<Row>[]>();
  /** Runs a function in the context of whoever asked first among the waiting keys. */
  private askedFirst: (<R>(fn: () => R) => R) | undefined;
  private scheduled = false;
  private running = 0;
  /** Queries run, and keys they carried, since start (read by tests and bench). */
  queries = 0;
  keys = 0;

  constructor(
    private readonly run: (keys: string[]) => Promise<Row[]>,
    private readonly keyOf: (row: Row) => string,
    readonly maxKeys: number,
    readonly maxRunning = 1,
  ) {}

  /** The rows of `key`, read with whatever other keys were asked for meanwhile. */
  load(key: string): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else {
        if (this.waiting.size === 0) this.askedFirst = AsyncLocalStorage.snapshot();
        this.waiting.set(key, [{ resolve, reject }]);
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxRunning || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => this.dispatch());
  }

  private dispatch(): void {
    this.scheduled = false;
    const inContext = this.askedFirst ?? ((fn) => fn());
    while (this.waiting.size > 0 && this.running < this.maxRunning) {
      const batch = new Map<string, Waiter<Row>[]>();
      for (const [key, waiters] of this.waiting) {
        batch.set(key, waiters);
        this.waiting.delete(key);
        if (batch.size === this.maxKeys) break;
      }
      this.running++;
      void inContext(() => this.runBatch(batch)).finally(() => {
        this.running--;
        this.schedule();
      });
    }
    if (this.waiting.size === 0) this.askedFirst = undefined;
  }

  private async runBatch(batch: Map<string, Waiter<Row>[]>): Promise<void> {
    const keys = [...batch.keys()];
    this.queries++;
    this.keys += keys.length;
    let rows: Row[];
    try {
      rows = await this.run(keys);
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      return;
    }
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      const key = this.keyOf(row);
      const found = byKey.get(key);
      if (found) found.push(row);
      else byKey.set(key, [row]);
    }
    for (const [key, waiters] of batch) {
      const found = byKey.get(key) ?? [];
      // Every waiter of a key gets its own array: a caller may keep or change what it got.
      for (const waiter of waiters) waiter.resolve(found.slice());
    }
  }
}

interface Waiter<Row> {
  resolve(rows: Row[]): void;
  reject(error: unknown): void;
}
