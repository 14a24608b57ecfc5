import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/db/database.js';
import { MAX_NAMED_STATEMENTS, StatementNames } from '../src/db/pg-statements.js';
import type { Database } from '../src/db/schema.js';
import { dropTestSchema, postgresAvailableFor, TEST_POSTGRES_URL, WITHOUT_POSTGRES } from './support/database.js';

type Scratch = { items: { id: number; label: string; extra?: string | null } };

describe('which texts get a statement name', () => {
  it('names a text from its second run on, always the same name, and never reuses a name', () => {
    const names = new StatementNames();
    expect(names.nameFor('select 1')).toBeUndefined();
    const first = names.nameFor('select 1');
    expect(first).toMatch(/^switchboard_\d+$/);
    expect(names.nameFor('select 1')).toBe(first);
    expect(names.nameFor('select 2')).toBeUndefined();
    const second = names.nameFor('select 2');
    expect(second).not.toBe(first);

    names.retire('select 1', first as string);
    const renamed = names.nameFor('select 1');
    expect(renamed).toMatch(/^switchboard_\d+$/);
    expect([first, second]).not.toContain(renamed);
    // Retiring a name the text no longer has changes nothing.
    names.retire('select 1', first as string);
    expect(names.nameFor('select 1')).toBe(renamed);
  });

  it(`names at most ${MAX_NAMED_STATEMENTS} texts; later ones run unnamed`, () => {
    const names = new StatementNames();
    for (let i = 0; i < MAX_NAMED_STATEMENTS + 50; i++) {
      names.nameFor(`select ${i}`);
      names.nameFor(`select ${i}`);
    }
    expect(names.size).toBe(MAX_NAMED_STATEMENTS);
    expect(names.nameFor(`select ${MAX_NAMED_STATEMENTS + 10}`)).toBeUndefined();
    expect(names.nameFor('select 0')).toMatch(/^switchboard_\d+$/);
  });
});

/**
 * Postgres runs repeated statements as named ones (db/pg-statements.ts). These hold them to
 * answering exactly as unnamed statements would, as data and tables change, and check on the
 * server (pg_prepared_statements) that what is meant to be prepared is, and nothing else.
 */
describe.skipIf(!postgresAvailableFor('named Postgres statements'))(
  `Postgres with statements prepared once per connection${WITHOUT_POSTGRES}`,
  () => {
    let dataDir: string;
    let schema: string;
    let handle: DatabaseHandle | undefined;
    let db: Kysely<Database & Scratch>;

    async function open(preparedStatements?: boolean) {
      // One connection: what it has prepared is what pg_prepared_statements shows it.
      handle = await openDatabase({
        databaseUrl: TEST_POSTGRES_URL,
        postgresSchema: schema,
        dataDir,
        poolSize: 1,
        ...(preparedStatements === undefined ? {} : { preparedStatements }),
      });
      db = handle.db.withTables<Scratch>();
    }

    beforeEach(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-pg-statements-'));
      schema = `t_pgstmt_${process.pid}_${Date.now().toString(36)}`;
      await open();
      await sql`create table items (id integer primary key, label text not null)`.execute(db);
      await db
        .insertInto('items')
        .values([1, 2, 3].map((id) => ({ id, label: `item-${id}` })))
        .execute();
    });
    afterEach(async () => {
      await handle?.close();
      handle = undefined;
      await dropTestSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** The statements this connection holds prepared whose text mentions the items table. */
    const preparedOnItems = async () =>
      (
        await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(db)
      ).rows.filter((row) => row.statement.includes('"items"'));

    const byId = (id: number) => db.selectFrom('items').selectAll().where('id', '=', id).executeTakeFirst();

    it('prepares a text at its second run and answers as the data under it changes', async () => {
      expect(await byId(1)).toEqual({ id: 1, label: 'item-1' });
      expect(await preparedOnItems()).toEqual([]);
      expect(await byId(2)).toEqual({ id: 2, label: 'item-2' });
      const prepared = await preparedOnItems();
      expect(prepared.map((row) => row.statement)).toEqual([
        'select * from "items" where "id" = $1',
        // The insert of beforeEach ran once: not prepared.
      ]);
      for (let id = 4; id <= 30; id++) {
        await db
          .insertInto('items')
          .values({ id, label: `item-${id}` })
          .execute();
        expect(await byId(id)).toEqual({ id, label: `item-${id}` });
        await db
          .updateTable('items')
          .set({ label: `changed-${id}` })
          .where('id', '=', id)
          .execute();
        expect(await byId(id)).toEqual({ id, label: `changed-${id}` });
        await db
          .deleteFrom('items')
          .where('id', '=', id - 1)
          .execute();
        expect(await byId(id - 1)).toBeUndefined();
      }
      const statements = (await preparedOnItems()).map((row) => row.statement.split(' ')[0]);
      expect(statements.sort()).toEqual(['delete', 'insert', 'select', 'update']);
    });

    it('answers with the new columns after another process adds one (the plan went stale), and names the text anew', async () => {
      await byId(1);
      await byId(1);
      const before = await preparedOnItems();
      expect(before).toHaveLength(1);
      // As a replica's migration would, on another connection.
      const other = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await other.connect();
      try {
        await other.query(`alter table ${schema}.items add column extra text`);
        await other.query(`update ${schema}.items set extra = 'x' where id = 1`);
      } finally {
        await other.end();
      }
      expect(await byId(1)).toEqual({ id: 1, label: 'item-1', extra: 'x' });
      expect(await byId(2)).toEqual({ id: 2, label: 'item-2', extra: null });
      const after = await preparedOnItems();
      expect(after).toHaveLength(2);
      expect(after.map((row) => row.name)).toContain(before[0]?.name);
    });

    it('inside a transaction, a select * runs unprepared, so a column added meanwhile fails nothing', async () => {
      const inTransaction = () =>
        db.transaction().execute((trx) => trx.selectFrom('items').selectAll().where('id', '=', 1).executeTakeFirst());
      await byId(1);
      await byId(1);
      expect(await inTransaction()).toEqual({ id: 1, label: 'item-1' });
      expect(await inTransaction()).toEqual({ id: 1, label: 'item-1' });
      await sql`alter table items add column extra text`.execute(db);
      expect(await inTransaction()).toEqual({ id: 1, label: 'item-1', extra: null });
      // On a connection that just ended a transaction, the text is prepared again: its stale
      // statement is met (and run again unnamed), then the text gets a new name.
      await db.connection().execute(async (conn) => {
        await conn.transaction().execute((trx) => trx.selectFrom('items').select('id').execute());
        for (let i = 0; i < 2; i++) {
          expect(await conn.selectFrom('items').selectAll().where('id', '=', 1).executeTakeFirst()).toEqual({
            id: 1,
            label: 'item-1',
            extra: null,
          });
        }
      });
      expect((await preparedOnItems()).map((row) => row.statement)).toEqual([
        'select * from "items" where "id" = $1',
        'select * from "items" where "id" = $1',
      ]);
    });

    it('inside a transaction, a statement gone stale otherwise fails that transaction once; the next run answers', async () => {
      const labels = (trx: Kysely<Database & Scratch>) =>
        trx.selectFrom('items').select(['id', 'label']).where('id', '=', 1).executeTakeFirst();
      await db.transaction().execute(labels);
      await db.transaction().execute(labels);
      await sql`alter table items alter column label type varchar(100)`.execute(db);
      await expect(db.transaction().execute(labels)).rejects.toMatchObject({ code: '0A000' });
      expect(await db.transaction().execute(labels)).toEqual({ id: 1, label: 'item-1' });
    });

    it(`past ${MAX_NAMED_STATEMENTS} distinct texts, the rest still answer, unnamed`, async () => {
      const texts = MAX_NAMED_STATEMENTS + 20;
      for (let round = 0; round < 2; round++) {
        for (let n = 1; n <= texts; n++) {
          const row = await db
            .selectFrom('items')
            .select(sql<number>`${sql.lit(n)} + id`.as('sum'))
            .where('id', '=', 1)
            .executeTakeFirstOrThrow();
          expect(row.sum).toBe(n + 1);
        }
      }
      const count = (await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(db))
        .rows[0]?.n;
      expect(count).toBeLessThanOrEqual(MAX_NAMED_STATEMENTS);
      expect(count).toBeGreaterThan(MAX_NAMED_STATEMENTS / 2);
    });

    it('with SWITCHBOARD_PG_PREPARED_STATEMENTS=false, nothing is prepared', async () => {
      await handle?.close();
      await open(false);
      for (let i = 0; i < 3; i++) expect(await byId(1)).toEqual({ id: 1, label: 'item-1' });
      expect(await preparedOnItems()).toEqual([]);
    });
  },
);
