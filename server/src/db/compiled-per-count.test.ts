import { type CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ENGINES, type TestDatabase } from '../../test/support/database.js';
import { compiledPerCount } from './compiled-per-count.js';

describe.each(ENGINES)('queries compiled once per count of keys on %s', (engine) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await db?.close();
  });

  /** A query that answers its parameters back, one row each, in order; `compiles` counts its compilations. */
  function echo(extra?: string) {
    const compiles: number[] = [];
    const compileFor = (values: string[]): CompiledQuery<{ v: string }> => {
      compiles.push(values.length);
      const parts = values.map((v, i) => sql`select cast(${v} as text) as v, ${sql.lit(i)} as n`);
      if (extra !== undefined) parts.push(sql`select cast(${extra} as text) as v, ${sql.lit(values.length)} as n`);
      return sql<{ v: string }>`select v from (${sql.join(parts, sql` union all `)}) echoed order by n`.compile(db.db);
    };
    return { compiles, compileFor };
  }

  it('runs each count’s text with the values it is given, compiling it once', async () => {
    const { compiles, compileFor } = echo();
    const run = compiledPerCount(db.db, compileFor, { width: 2, traced: false });
    expect(await run(['a', 'b'])).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(await run(['c', 'd'])).toEqual([{ v: 'c' }, { v: 'd' }]);
    expect(await run(['e', 'f', 'g', 'h'])).toEqual(['e', 'f', 'g', 'h'].map((v) => ({ v })));
    expect(await run(['i', 'i'])).toEqual([{ v: 'i' }, { v: 'i' }]);
    expect(compiles).toEqual([2, 4]);
  });

  it('compiles for every run while statements are traced', async () => {
    const { compiles, compileFor } = echo();
    const run = compiledPerCount(db.db, compileFor, { width: 1, traced: true });
    expect(await run(['a'])).toEqual([{ v: 'a' }]);
    expect(await run(['b'])).toEqual([{ v: 'b' }]);
    expect(compiles).toEqual([1, 1]);
  });

  it('refuses a text with parameters other than the keys’ values, and values that make no whole keys', async () => {
    const run = compiledPerCount(db.db, echo('constant').compileFor, { width: 1, traced: false });
    await expect(run(['a'])).rejects.toThrow(/only parameters/);
    const pairs = compiledPerCount(db.db, echo().compileFor, { width: 2, traced: false });
    await expect(pairs(['a', 'b', 'c'])).rejects.toThrow(/do not make keys of 2/);
  });
});
