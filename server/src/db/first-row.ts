import { type Insertable, type Kysely, sql } from 'kysely';
import type { Engine } from './database.js';
import type { Database } from './schema.js';

/** Tables whose first row a start creates: the first admin client, the first signing key. */
type FirstRowTable = 'api_clients' | 'signing_keys';

/**
 * Inserts `row` only while `table` is empty, and says whether it did, so that replicas
 * starting at once on an empty database insert one row between them. The insert carries
 * its own "table is empty" condition: one statement is atomic on SQLite (one writer at a
 * time, and a transaction would hold the write lock across an await); on Postgres it runs
 * under a lock that conflicts with itself and with every write, not with reads (running
 * replicas keep serving), so concurrent starts take turns and the second sees the first's row.
 */
export async function insertFirstRow<T extends FirstRowTable>(
  db: Kysely<Database>,
  engine: Engine,
  table: T,
  row: Insertable<Database[T]>,
): Promise<boolean> {
  const values = Object.entries(row);
  const insertIfNone = (executor: Kysely<Database>) =>
    executor
      .insertInto(table)
      .columns(values.map(([column]) => column) as never)
      .expression(
        executor
          .selectNoFrom((eb) => values.map(([column, value]) => eb.val(value).as(column)))
          .where(({ not, exists }) => not(exists(sql`(select 1 from ${sql.table(table)})`))) as never,
      )
      .executeTakeFirst();
  const result =
    engine === 'postgres'
      ? await db.transaction().execute(async (trx) => {
          await sql`lock table ${sql.table(table)} in share row exclusive mode`.execute(trx);
          return insertIfNone(trx);
        })
      : await insertIfNone(db);
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}
