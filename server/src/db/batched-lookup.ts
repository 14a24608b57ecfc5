/**
 * Lookups by key asked for within one turn of the event loop, run together as one query:
 * keys gather until the turn's check phase (setImmediate), then go out `maxKeys` at most a
 * query, and each caller gets the rows of its own key. A lone lookup waits for nothing but
 * the end of the turn it was asked in.
 *
 * Why: a query's fixed cost (a round trip, the driver's and the server's work per
 * statement) is most of a cold instance lookup on Postgres, and concurrent first calls of
 * different users ask for their lookups in the same turns. Rows are told apart by `keyOf`; a
 * row whose key nobody asked for is dropped. A failed query fails every lookup it carried.
 * While statements are traced, a shared query's span belongs to the request that asked first.
 */
export class BatchedLookup<Row> {
  private waiting = new Map<string, Waiter<Row>[]>();
  private scheduled = false;
  /** Queries run, and keys they carried, since start (read by tests and bench). */
  queries = 0;
  keys = 0;

  constructor(
    private readonly run: (keys: string[]) => Promise<Row[]>,
    private readonly keyOf: (row: Row) => string,
    readonly maxKeys: number,
  ) {}

  /** The rows of `key`, read with whatever other keys were asked for in this turn. */
  load(key: string): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.dispatch());
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = new Map();
    const keys = [...waiting.keys()];
    for (let at = 0; at < keys.length; at += this.maxKeys) {
      void this.runBatch(keys.slice(at, at + this.maxKeys), waiting);
    }
  }

  private async runBatch(keys: string[], waiting: Map<string, Waiter<Row>[]>): Promise<void> {
    this.queries++;
    this.keys += keys.length;
    let rows: Row[];
    try {
      rows = await this.run(keys);
    } catch (error) {
      for (const key of keys) for (const waiter of waiting.get(key) ?? []) waiter.reject(error);
      return;
    }
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      const key = this.keyOf(row);
      const found = byKey.get(key);
      if (found) found.push(row);
      else byKey.set(key, [row]);
    }
    for (const key of keys) {
      const found = byKey.get(key) ?? [];
      // Every waiter of a key gets its own array: a caller may keep or change what it got.
      for (const waiter of waiting.get(key) ?? []) waiter.resolve(found.slice());
    }
  }
}

interface Waiter<Row> {
  resolve(rows: Row[]): void;
  reject(error: unknown): void;
}
