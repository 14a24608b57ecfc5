import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insertable, Kysely } from 'kysely';
import { type DatabaseHandle, type Engine, openDatabase } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';

/** The Postgres the machine and CI provide; override with SWITCHBOARD_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The engine the suite runs on: SWITCHBOARD_TEST_ENGINE=postgres|sqlite (default sqlite). */
export const TEST_ENGINE: Engine = process.env.SWITCHBOARD_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

export interface TestDatabase extends DatabaseHandle {
  dataDir: string;
  /** Options to open the same database again (e.g. from a second server process). */
  reopen: { databaseUrl?: string; postgresSchema?: string; dataDir: string };
}

let counter = 0;

/** A fresh, migrated, empty database on `engine`: its own temp dir, or its own Postgres schema. */
export async function createTestDatabase(engine: Engine = TEST_ENGINE): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const postgresSchema =
    engine === 'postgres' ? `t_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}` : undefined;
  const databaseUrl = engine === 'postgres' ? TEST_POSTGRES_URL : undefined;
  const handle = await openDatabase({ databaseUrl, postgresSchema, dataDir });
  return {
    ...handle,
    dataDir,
    reopen: { databaseUrl, postgresSchema, dataDir },
    async close() {
      await handle.close();
      if (postgresSchema && databaseUrl) {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${postgresSchema} CASCADE`);
        await client.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The engines storage tests run on (`describe.each(ENGINES)`): both by default; only the
 * chosen one when SWITCHBOARD_TEST_ENGINE is set, as CI runs the suite once per engine.
 */
export const ENGINES: Engine[] = process.env.SWITCHBOARD_TEST_ENGINE ? [TEST_ENGINE] : ['sqlite', 'postgres'];

/** A sandbox gmail connection row written straight to the database, for tests that build rows by hand. */
export async function insertConnection(db: Kysely<Database>, id: string, name: string, now: string): Promise<void> {
  await db
    .insertInto('connections')
    .values({
      id,
      name,
      provider: 'gmail',
      target: 'sandbox',
      oauth_client_id: 'x',
      oauth_client_secret_enc: null,
      key_id: null,
      scopes: '[]',
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** A connected_accounts row without tokens, for tests that build rows by hand; `fields` override. */
export function accountRow(
  id: string,
  connectionId: string,
  fields: Partial<Insertable<Database['connected_accounts']>> = {},
): Insertable<Database['connected_accounts']> {
  const now = new Date().toISOString();
  return {
    id,
    connection_id: connectionId,
    identifier: id,
    status: 'PENDING_AUTH',
    status_reason: null,
    tokens_enc: null,
    key_id: null,
    token_expires_at: null,
    granted_scopes: '[]',
    provider_account: null,
    token_version: 0,
    last_used_at: null,
    created_at: now,
    updated_at: now,
    ...fields,
  };
}
