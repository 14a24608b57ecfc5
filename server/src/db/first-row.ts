import { type Kysely, sql } from 'kysely';
import type { Engine } from './database.js';
import type { Database } from './schema.js';

/**
 * Runs `insert`, a statement that inserts only while `table` is empty, so that replicas
 * starting at once on an empty database insert one row between them. On Postgres the
 * statement runs under a lock that conflicts with itself and with every write, not with
 * reads (running replicas keep serving). On SQLite one statement is atomic already, and a
 * transaction would hold the write lock across an await.
 */
export async function insertFirstRow<T>(
  db: Kysely<Database>,
  engine: Engine,
  table: 'api_clients' | 'signing_keys',
  insert: (executor: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (engine !== 'postgres') return insert(db);
  return db.transaction().execute(async (trx) => {
    await sql`lock table ${sql.table(table)} in share row exclusive mode`.execute(trx);
    return insert(trx);
  });
}
