/**
 * The timing of a write-behind buffer, shared by the audit log and the last_used_at marks:
 * a write is scheduled `delayMs` after the first pending item, batches are written one at
 * a time and in order, and `flush()` resolves once everything taken so far is stored.
 * The owner keeps the pending items; `take` hands them over (undefined when there are none).
 */
export class WriteBehind<Batch> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly delayMs: number,
    private readonly take: () => Batch | undefined,
    private readonly write: (batch: Batch) => Promise<void>,
  ) {}

  /** Something is pending: write it within `delayMs` (an earlier schedule stands). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** Writes everything pending now; resolves once it and every earlier batch are stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.take();
    if (batch !== undefined) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }
}

/**
 * Resolves after one turn of the event loop. A write-behind batch written in several
 * statements awaits it between them: SQLite runs each statement on the event loop, so the
 * requests that arrived meanwhile go before the next one.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Splits a batch into chunks whose sizes are powers of two (largest first, at most `max`,
 * itself a power of two), so a multi-row statement has one of log2(max) + 1 SQL texts: each
 * stays prepared on SQLite instead of a new text (and a new prepare, evicting a hot one) per
 * batch size.
 */
export function powerOfTwoChunks<T>(items: readonly T[], max: number): T[][] {
  const chunks: T[][] = [];
  let at = 0;
  let size = max;
  while (at < items.length) {
    while (size > items.length - at) size /= 2;
    chunks.push(items.slice(at, at + size));
    at += size;
  }
  return chunks;
}
