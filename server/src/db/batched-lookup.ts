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
 * A shared query runs in the async context (a trace span, say) of the request that asked
 * first among those waiting when it left: a held-back batch is released through a promise
 * reaction that first waiter registered, so its context comes with it at the cost of one
 * promise (AsyncLocalStorage.snapshot() cost ~15 µs here, most of a cold lookup's own work).
 */
export class BatchedLookup<Row> {
  private waiting = new Map<string, Waiter<Row>[]>();
  /** Releases the keys held back while queries are out, in the context that first waited. */
  private release: (() => void) | undefined;
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
      else this.waiting.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  /**
   * Sends the waiting keys at the end of this turn, or, while `maxRunning` queries are out,
   * once one of them returns. Either way the send is set up in the caller's async context
   * (setImmediate and a promise reaction both keep the context they were made in).
   */
  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    if (this.running < this.maxRunning) {
      this.scheduled = true;
      setImmediate(() => this.dispatch());
    } else if (!this.release) {
      void new Promise<void>((resolve) => {
        this.release = resolve;
      }).then(() => {
        this.release = undefined;
        this.schedule();
      });
    }
  }

  private dispatch(): void {
    this.scheduled = false;
    while (this.waiting.size > 0 && this.running < this.maxRunning) {
      const batch = new Map<string, Waiter<Row>[]>();
      for (const [key, waiters] of this.waiting) {
        batch.set(key, waiters);
        this.waiting.delete(key);
        if (batch.size === this.maxKeys) break;
      }
      this.running++;
      void this.runBatch(batch).finally(() => {
        this.running--;
        if (this.release) this.release();
        else this.schedule();
      });
    }
    this.schedule();
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
