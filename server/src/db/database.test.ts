import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './database.js';
import type { Database } from './schema.js';

/** A table of the test's own, beside the migrated ones. */
type Scratch = {
  items: { id: number; label: string; extra?: string | null };
};

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * SQLite reuses prepared statements by SQL text (at most 200). These hold it to answering
 * exactly as fresh statements would: as data and schema change, past the limit, and around streams.
 */
describe('SQLite with prepared statements reused', () => {
  let dataDir: string;
  let handle: DatabaseHandle;
  let db: Kysely<Database & Scratch>;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-db-test-'));
    handle = await openDatabase({ dataDir });
    expect(handle.engine).toBe('sqlite');
    db = handle.db.withTables<Scratch>();
    await sql`create table items (id integer primary key, label text not null unique)`.execute(db);
  });
  afterEach(async () => {
    await handle?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function insert(ids: number[]) {
    await db
      .insertInto('items')
      .values(ids.map((id) => ({ id, label: `item-${id}` })))
      .execute();
  }

  it('answers the same queries right, many times, as the data under them changes', async () => {
    const count = () =>
      db
        .selectFrom('items')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
    const byId = (id: number) => db.selectFrom('items').select(['id', 'label']).where('id', '=', id).executeTakeFirst();
    const present = new Set<number>();
    for (let id = 1; id <= 100; id++) {
      await db
        .insertInto('items')
        .values({ id, label: `item-${id}` })
        .execute();
      present.add(id);
      expect(Number((await count()).n)).toBe(present.size);
      expect(await byId(id)).toEqual({ id, label: `item-${id}` });
      const updated = await db
        .updateTable('items')
        .set({ label: `changed-${id}` })
        .where('id', '=', id)
        .execute();
      expect(Number(updated[0]?.numUpdatedRows)).toBe(1);
      expect(await byId(id)).toEqual({ id, label: `changed-${id}` });
      if (id % 2 === 0) {
        await db
          .deleteFrom('items')
          .where('id', '=', id - 1)
          .execute();
        present.delete(id - 1);
        expect(await byId(id - 1)).toBeUndefined();
        expect(Number((await count()).n)).toBe(present.size);
      }
    }
    expect(Number((await count()).n)).toBe(50);
    const odd = await db.selectFrom('items').select('id').where('id', '<', 10).orderBy('id').execute();
    expect(odd.map((r) => r.id)).toEqual([2, 4, 6, 8]);
  });

  it('keeps working after a statement fails: a unique violation, then the same insert with other values', async () => {
    await insert([1]);
    const insertOne = (id: number, label: string) => db.insertInto('items').values({ id, label }).execute();
    await expect(insertOne(2, 'item-1')).rejects.toThrow(/UNIQUE/);
    await insertOne(2, 'item-2');
    await expect(insertOne(3, 'item-2')).rejects.toThrow(/UNIQUE/);
    await insertOne(3, 'item-3');
    const rows = await db.selectFrom('items').select('label').orderBy('id').execute();
    expect(rows.map((r) => r.label)).toEqual(['item-1', 'item-2', 'item-3']);
    // A failed transaction rolls back, and the next one runs on the same statements.
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 4, label: 'item-4' }).execute();
        await trx.insertInto('items').values({ id: 5, label: 'item-1' }).execute();
      }),
    ).rejects.toThrow(/UNIQUE/);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 4, label: 'item-4' }).execute();
      await trx.insertInto('items').values({ id: 5, label: 'item-5' }).execute();
    });
    expect(await db.selectFrom('items').select('id').orderBy('id').execute()).toEqual(
      range(1, 5).map((id) => ({ id })),
    );
  });

  it('runs more than 200 distinct SQL texts right, twice over, as the oldest are evicted', async () => {
    await insert(range(1, 300));
    const inList = (n: number) =>
      db.selectFrom('items').select('id').where('id', 'in', range(1, n)).orderBy('id').execute();
    for (let n = 1; n <= 250; n++) {
      const rows = await inList(n);
      expect(rows.length, `in-list of ${n}`).toBe(n);
      expect(rows.at(-1)?.id).toBe(n);
    }
    await db.deleteFrom('items').where(sql<boolean>`id % 2 = 0`).execute();
    // The first 50 texts were evicted by now, the last 200 are still prepared: both kinds answer.
    for (let n = 1; n <= 250; n++) {
      const rows = await inList(n);
      expect(
        rows.map((r) => r.id),
        `in-list of ${n}`,
      ).toEqual(range(1, n).filter((id) => id % 2 === 1));
    }
  });

  it('sees a column added on the same connection in a query prepared before', async () => {
    await insert([1, 2]);
    const all = () => db.selectFrom('items').selectAll().orderBy('id').execute();
    expect(await all()).toEqual([
      { id: 1, label: 'item-1' },
      { id: 2, label: 'item-2' },
    ]);
    await sql`alter table items add column extra text`.execute(db);
    await db.updateTable('items').set({ extra: 'more' }).where('id', '=', 2).execute();
    expect(await all()).toEqual([
      { id: 1, label: 'item-1', extra: null },
      { id: 2, label: 'item-2', extra: 'more' },
    ]);
  });

  it('answers a query prepared before its table was dropped and created again', async () => {
    await insert([1, 2, 3]);
    const labels = () => db.selectFrom('items').select('label').orderBy('id').execute();
    expect(await labels()).toHaveLength(3);
    await sql`drop table items`.execute(db);
    await expect(labels()).rejects.toThrow(/no such table/);
    await sql`create table items (label text not null, id integer primary key)`.execute(db);
    await insert([7]);
    expect(await labels()).toEqual([{ label: 'item-7' }]);
  });

  it('streams many rows, and runs the identical query again after the stream finished or was left early', async () => {
    const total = 5_000;
    await db.transaction().execute(async (trx) => {
      for (let from = 1; from <= total; from += 500) {
        await trx
          .insertInto('items')
          .values(range(from, from + 499).map((id) => ({ id, label: `item-${id}` })))
          .execute();
      }
    });
    const query = () => db.selectFrom('items').select(['id', 'label']).where('id', '>', 0).orderBy('id');

    let seen = 0;
    let sum = 0;
    for await (const row of query().stream()) {
      seen++;
      sum += row.id;
      expect(row.label).toBe(`item-${row.id}`);
    }
    expect(seen).toBe(total);
    expect(sum).toBe((total * (total + 1)) / 2);

    const again = await query().execute();
    expect(again).toHaveLength(total);
    expect(again[total - 1]).toEqual({ id: total, label: `item-${total}` });

    const firstTen: number[] = [];
    for await (const row of query().stream()) {
      firstTen.push(row.id);
      if (firstTen.length === 10) break;
    }
    expect(firstTen).toEqual(range(1, 10));
    await db.deleteFrom('items').where('id', '>', 100).execute();
    expect(await query().execute()).toHaveLength(100);
    let streamed = 0;
    for await (const _ of query().stream()) streamed++;
    expect(streamed).toBe(100);
  });
});
