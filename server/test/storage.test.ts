import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, verifyApiClient } from '../src/auth/api-clients.js';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest, pendingMigrations } from '../src/db/migrations.js';
import { accountRow, createTestDatabase, ENGINES, insertConnection, type TestDatabase } from './support/database.js';
import { CLI } from './support/process.js';

describe.each(ENGINES)('storage on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db?.close());

  it('runs migrations again without changing anything', async () => {
    await migrateToLatest(db.db as never);
    const reopened = await openDatabase({ ...db.reopen });
    await reopened.close();
    const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db.db);
    expect(rows.rows.map((r) => r.name)).toContain('0001_initial');
    expect(new Set(rows.rows.map((r) => r.name)).size).toBe(rows.rows.length);
  });

  it('starts on a database a newer build has migrated, and says which migrations it does not know', async () => {
    const future = '9999_from_a_newer_build';
    await sql`insert into kysely_migration (name, timestamp) values (${future}, ${new Date().toISOString()})`.execute(
      db.db,
    );
    try {
      const told: string[][] = [];
      const reopened = await openDatabase({ ...db.reopen, onNewerSchema: (names) => told.push(names) });
      await reopened.close();
      expect(told).toEqual([[future]]);
      // Kysely's own check calls this "corrupted migrations" and stops the process.
      await expect(migrateToLatest(db.db as never)).resolves.toEqual({ newer: [future] });
      await expect(pendingMigrations(db.db as never)).resolves.toEqual([]);
    } finally {
      await sql`delete from kysely_migration where name = ${future}`.execute(db.db);
    }
    await expect(migrateToLatest(db.db as never)).resolves.toEqual({ newer: [] });
  });

  it('refuses a database where a newer build ran a migration older builds cannot run on', async () => {
    const future = '9999_drop_a_column_breaking';
    await sql`insert into kysely_migration (name, timestamp) values (${future}, ${new Date().toISOString()})`.execute(
      db.db,
    );
    try {
      await expect(openDatabase({ ...db.reopen })).rejects.toThrow(`this build cannot run on (${future})`);
    } finally {
      await sql`delete from kysely_migration where name = ${future}`.execute(db.db);
    }
  });

  it('refuses a database that has migrations it does not know but lacks one of its own', async () => {
    const own = '0011_room_for_usage_marks';
    const future = '9999_from_another_line';
    const [ran] = (
      await sql<{ timestamp: string }>`select timestamp from kysely_migration where name = ${own}`.execute(db.db)
    ).rows;
    expect(ran).toBeDefined();
    await sql`delete from kysely_migration where name = ${own}`.execute(db.db);
    await sql`insert into kysely_migration (name, timestamp) values (${future}, ${new Date().toISOString()})`.execute(
      db.db,
    );
    try {
      await expect(openDatabase({ ...db.reopen })).rejects.toThrow(
        `it has ${future}, which this build does not know, but not ${own}, which this build needs`,
      );
    } finally {
      await sql`delete from kysely_migration where name = ${future}`.execute(db.db);
      await sql`insert into kysely_migration (name, timestamp) values (${own}, ${ran?.timestamp})`.execute(db.db);
    }
  });

  it('stores API client secrets hashed and verifies them', async () => {
    const client = await createApiClient(db.db, systemClock, 'ci');
    const row = await db.db.selectFrom('api_clients').selectAll().where('id', '=', client.id).executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toContain(client.client_secret);
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyApiClient(db.db, client.client_id, client.client_secret)).toMatchObject({ name: 'ci' });
    expect(await verifyApiClient(db.db, client.client_id, `${client.client_secret}x`)).toBeUndefined();
    expect(await verifyApiClient(db.db, 'sbc_unknown', client.client_secret)).toBeUndefined();
  });

  it('enforces one account per connection and identifier', async () => {
    const now = new Date().toISOString();
    await insertConnection(db.db, 'conn_a', 'A', now);
    const account = (id: string) => accountRow(id, 'conn_a', { identifier: 'same' });
    await db.db.insertInto('connected_accounts').values(account('ca_1')).execute();
    await expect(db.db.insertInto('connected_accounts').values(account('ca_2')).execute()).rejects.toThrow();
  });
});

describe('switchboard clients create', () => {
  it('prints new management credentials that work', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      const result = spawnSync(process.execPath, [CLI, 'clients', 'create', '--name', 'backend'], {
        env: { PATH: process.env.PATH ?? '', SWITCHBOARD_DATA_DIR: db.dataDir },
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      const id = /client_id:\s+(\S+)/.exec(result.stdout)?.[1] ?? '';
      const secret = /client_secret:\s+(\S+)/.exec(result.stdout)?.[1] ?? '';
      expect(await verifyApiClient(db.db, id, secret)).toMatchObject({ name: 'backend' });
    } finally {
      await db.close();
    }
  });
});
