import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, KEPT_CONNECTIONS, openDatabase } from '../src/db/database.js';
import { dropTestSchema, postgresAvailableFor, TEST_POSTGRES_URL, WITHOUT_POSTGRES } from './support/database.js';

/**
 * A quiet Postgres pool keeps some connections open (db/database.ts KEPT_CONNECTIONS): a call
 * after a quiet minute runs on a backend that is already there, not on one Postgres starts
 * for it. The idle time is shortened here so the pool's reaping is seen within a second.
 */
describe.skipIf(!postgresAvailableFor('the Postgres pool'))(`the Postgres pool${WITHOUT_POSTGRES}`, () => {
  let handle: DatabaseHandle | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-pg-pool-'));
  const schema = `t_pgpool_${process.pid}_${Date.now().toString(36)}`;

  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    await dropTestSchema(schema);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`closes idle connections beyond ${KEPT_CONNECTIONS} and runs the next queries on the kept ones`, async () => {
    handle = await openDatabase({
      databaseUrl: TEST_POSTGRES_URL,
      postgresSchema: schema,
      dataDir,
      poolSize: 5,
      idleConnectionMs: 100,
    });
    const { db, pool } = handle;
    if (!pool) throw new Error('a Postgres handle has its pool');
    const backend = async () =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(db)).rows[0]?.pid;
    // A burst opens all five.
    const opened = new Set(await Promise.all([1, 2, 3, 4, 5].map(backend)));
    // Five backends at once (the pool's count right after the burst races the idle timer on a loaded machine).
    expect(opened.size).toBe(5);

    const deadline = Date.now() + 5_000;
    while (pool.totalCount > KEPT_CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Well past the idle time: the kept ones are still open, not closed at their turn.
    await new Promise((r) => setTimeout(r, 400));
    expect(pool.totalCount).toBe(KEPT_CONNECTIONS);
    expect(pool.idleCount).toBe(KEPT_CONNECTIONS);

    const after = await Promise.all(Array.from({ length: KEPT_CONNECTIONS }, backend));
    for (const pid of after) expect(opened).toContain(pid);
    expect(pool.totalCount).toBe(KEPT_CONNECTIONS);
  });
});
