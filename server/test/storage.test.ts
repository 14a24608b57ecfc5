import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, verifyApiClient } from '../src/auth/api-clients.js';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrations.js';
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
