import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { BatchedLookup } from './batched-lookup.js';
import { nextTurn } from './write-behind.js';

interface Row {
  key: string;
  n: number;
}

/** The request a query runs for, as a tracer's context would carry it. */
const request = new AsyncLocalStorage<string>();

/**
 * A lookup over `table` that notes the keys of each query it runs and the request it ran in,
 * and fails while `failing`. A query is out for one turn, or until `answer()` while `held`.
 */
function lookupOver(table: Row[], maxKeys = 16, maxRunning?: number) {
  const queries: string[][] = [];
  const ranFor: (string | undefined)[] = [];
  const state = { failing: false, held: false };
  const out: (() => void)[] = [];
  const lookup = new BatchedLookup<Row>(
    async (keys) => {
      queries.push(keys);
      ranFor.push(request.getStore());
      if (state.held) await new Promise<void>((resolve) => out.push(resolve));
      else await nextTurn();
      if (state.failing) throw new Error('the database went away');
      return table.filter((row) => keys.includes(row.key));
    },
    (row) => row.key,
    maxKeys,
    maxRunning,
  );
  /** Lets the oldest held query answer. */
  const answer = () => out.shift()?.();
  return { lookup, queries, ranFor, state, answer };
}

/** Several turns, long enough for any query that could leave to leave. */
async function turns(n = 3) {
  for (let i = 0; i < n; i++) await nextTurn();
}

const TABLE: Row[] = [
  { key: 'a', n: 1 },
  { key: 'b', n: 2 },
  { key: 'a', n: 3 },
  { key: 'c', n: 4 },
];

describe('BatchedLookup', () => {
  it('runs the lookups of one turn as one query and hands each its own rows', async () => {
    const { lookup, queries } = lookupOver(TABLE);
    const [a, b, missing] = await Promise.all([lookup.load('a'), lookup.load('b'), lookup.load('x')]);
    expect(queries).toEqual([['a', 'b', 'x']]);
    expect(a).toEqual([
      { key: 'a', n: 1 },
      { key: 'a', n: 3 },
    ]);
    expect(b).toEqual([{ key: 'b', n: 2 }]);
    expect(missing).toEqual([]);
    expect({ queries: lookup.queries, keys: lookup.keys }).toEqual({ queries: 1, keys: 3 });
  });

  it('asks once for a key asked twice in a turn, and gives each caller an array of its own', async () => {
    const { lookup, queries } = lookupOver(TABLE);
    const [first, second] = await Promise.all([lookup.load('b'), lookup.load('b')]);
    expect(queries).toEqual([['b']]);
    expect(first).toEqual([{ key: 'b', n: 2 }]);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it('runs lookups of different turns in different queries', async () => {
    const { lookup, queries } = lookupOver(TABLE);
    const a = lookup.load('a');
    await nextTurn();
    const c = lookup.load('c');
    expect((await a).map((row) => row.n)).toEqual([1, 3]);
    expect((await c).map((row) => row.n)).toEqual([4]);
    expect(queries).toEqual([['a'], ['c']]);
  });

  it('carries at most maxKeys keys a query', async () => {
    const table = Array.from({ length: 7 }, (_, n) => ({ key: `k${n}`, n }));
    const { lookup, queries } = lookupOver(table, 3);
    const found = await Promise.all(table.map((row) => lookup.load(row.key)));
    expect(found.map((rows) => rows.map((row) => row.n))).toEqual(table.map((row) => [row.n]));
    expect(queries).toEqual([['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']]);
  });

  it('fails every lookup of a failed query, and runs the next turn anew', async () => {
    const { lookup, state } = lookupOver(TABLE);
    state.failing = true;
    const failed = await Promise.allSettled([lookup.load('a'), lookup.load('b')]);
    expect(failed.map((result) => result.status === 'rejected' && (result.reason as Error).message)).toEqual([
      'the database went away',
      'the database went away',
    ]);
    state.failing = false;
    expect((await lookup.load('c')).map((row) => row.n)).toEqual([4]);
  });

  it('holds the next query while one is out, and sends what gathered meanwhile as one query', async () => {
    const { lookup, queries, state, answer } = lookupOver(TABLE);
    state.held = true;
    const a = lookup.load('a');
    await turns();
    const b = lookup.load('b');
    await turns();
    const c = lookup.load('c');
    const again = lookup.load('a');
    await turns();
    expect(queries).toEqual([['a']]);
    answer();
    expect((await a).map((row) => row.n)).toEqual([1, 3]);
    await turns();
    expect(queries).toEqual([['a'], ['b', 'c', 'a']]);
    answer();
    expect((await Promise.all([b, c, again])).map((rows) => rows.map((row) => row.n))).toEqual([[2], [4], [1, 3]]);
    expect({ queries: lookup.queries, keys: lookup.keys }).toEqual({ queries: 2, keys: 4 });
  });

  it('keeps up to maxRunning queries out at once', async () => {
    const { lookup, queries, state, answer } = lookupOver(TABLE, 16, 2);
    state.held = true;
    const a = lookup.load('a');
    await turns();
    const b = lookup.load('b');
    await turns();
    const c = lookup.load('c');
    await turns();
    expect(queries).toEqual([['a'], ['b']]);
    answer();
    await a;
    await turns();
    expect(queries).toEqual([['a'], ['b'], ['c']]);
    answer();
    answer();
    expect((await Promise.all([b, c])).map((rows) => rows.map((row) => row.n))).toEqual([[2], [4]]);
  });

  it('sends the keys that gathered behind a failed query', async () => {
    const { lookup, queries, state, answer } = lookupOver(TABLE);
    state.held = true;
    state.failing = true;
    const a = lookup.load('a');
    await turns();
    const c = lookup.load('c');
    await turns();
    answer();
    await expect(a).rejects.toThrow('the database went away');
    state.failing = false;
    await turns();
    answer();
    expect((await c).map((row) => row.n)).toEqual([4]);
    expect(queries).toEqual([['a'], ['c']]);
  });

  it('runs a held-back query in the context of the first caller waiting for it', async () => {
    const { lookup, ranFor, state, answer } = lookupOver(TABLE);
    state.held = true;
    const a = request.run('first', () => lookup.load('a'));
    await turns();
    const b = request.run('second', () => lookup.load('b'));
    const c = request.run('third', () => lookup.load('c'));
    await turns();
    answer();
    await a;
    await turns();
    answer();
    await Promise.all([b, c]);
    expect(ranFor).toEqual(['first', 'second']);
  });
});
