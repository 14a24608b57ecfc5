import { AppError } from '../../errors.js';

/** What a budgeted read gave. */
export interface BudgetedReads<T, R> {
  /** The items read that fit the budget, in the input's order. */
  kept: R[];
  /** The items left out, in the input's order: never read, or read but past the budget. */
  leftOut: T[];
  /** The JSON size of the first item left out, when it was read: it alone did not fit. */
  firstLeftOutBytes?: number;
}

/**
 * Reads items with at most `concurrency` reads in flight, and starts no more once what was
 * read passes `budgetBytes` of JSON: a listing of large messages then holds about the budget
 * plus the reads in flight, not every message. Keeps the longest run from the start that fits
 * the budget; an item whose read yields undefined (it is gone) is neither kept nor left out.
 * Starts no read once `signal` aborts; the first failure rejects.
 */
export async function readWithinBudget<T, R>(
  items: readonly T[],
  options: { concurrency: number; budgetBytes: number; signal?: AbortSignal },
  read: (item: T) => Promise<R | undefined>,
): Promise<BudgetedReads<T, R>> {
  const outcomes = new Array<{ value: R; bytes: number } | 'gone' | undefined>(items.length);
  let next = 0;
  let readBytes = 0;
  const worker = async () => {
    while (next < items.length && readBytes <= options.budgetBytes) {
      options.signal?.throwIfAborted();
      const index = next++;
      const value = await read(items[index] as T);
      if (value === undefined) {
        outcomes[index] = 'gone';
        continue;
      }
      // One more byte for the comma between items in the answer's array.
      const bytes = Buffer.byteLength(JSON.stringify(value)) + 1;
      outcomes[index] = { value, bytes };
      readBytes += bytes;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));

  const kept: R[] = [];
  let keptBytes = 0;
  let index = 0;
  for (; index < items.length; index++) {
    const outcome = outcomes[index];
    if (outcome === 'gone') continue;
    if (outcome === undefined || keptBytes + outcome.bytes > options.budgetBytes) break;
    kept.push(outcome.value);
    keptBytes += outcome.bytes;
  }
  const leftOut = items.filter((_, at) => at >= index && outcomes[at] !== 'gone');
  const first = outcomes[index];
  return { kept, leftOut, ...(typeof first === 'object' ? { firstLeftOutBytes: first.bytes } : {}) };
}

/**
 * Refuses a read of which not even the first message fits in the result limit: an empty answer
 * would read as "nothing found", so the caller learns instead how to ask for less (`advice`).
 */
export function assertFirstMessageFits<T extends { id: string }, R>(
  read: BudgetedReads<T, R>,
  maxResultBytes: number,
  advice: string,
): void {
  const [first] = read.leftOut;
  if (!first || read.kept.length) return;
  const bytes = read.firstLeftOutBytes;
  const size = bytes === undefined ? '' : ` is ${bytes} bytes and`;
  throw new AppError(
    'tool_result_too_large',
    `message ${first.id}${size} does not fit in a result: over this server's limit of ${maxResultBytes} bytes; ${advice}`,
    { details: { ...(bytes === undefined ? {} : { result_bytes: bytes }), max_result_bytes: maxResultBytes } },
  );
}
