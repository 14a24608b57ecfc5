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
      if (postgresSchema && databaseUrl) await dropTestSchema(postgresSchema, databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops a Postgres schema a test made, with what is in it. */
export async function dropTestSchema(schema: string, databaseUrl = TEST_POSTGRES_URL): Promise<void> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Why the test Postgres cannot be used, or undefined when it answers a query within a second. */
async function postgresUnreachableBecause(): Promise<string | undefined> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Why tests that need Postgres are skipped in this run, or undefined when they run. With
 * SWITCHBOARD_TEST_ENGINE=postgres they always run, so a missing Postgres fails loudly there.
 */
const postgresSkipReason =
  process.env.SWITCHBOARD_TEST_ENGINE === 'postgres'
    ? undefined
    : await postgresUnreachableBecause().then((why) =>
        why === undefined ? undefined : `no Postgres at ${TEST_POSTGRES_URL} (${why})`,
      );

/**
 * Whether tests that need Postgres whatever the engine (replicas, other processes) run: when
 * Postgres is reachable, in the default `npm test` and under either engine. Otherwise it
 * warns that `what` was skipped and why.
 */
export function postgresAvailableFor(what: string): boolean {
  if (postgresSkipReason === undefined) return true;
  console.warn(`SKIPPED ${what}: ${postgresSkipReason}; start one (or set SWITCHBOARD_TEST_POSTGRES_URL) to run them`);
  return false;
}

/** Appended to the name of a suite skipped for want of Postgres, so the reporter says why. */
export const WITHOUT_POSTGRES = postgresSkipReason === undefined ? '' : ` (skipped: ${postgresSkipReason})`;

/**
 * The engines storage tests run on (`describe.each(ENGINES)`): both by default (Postgres only
 * when reachable); only the chosen one when SWITCHBOARD_TEST_ENGINE is set, as CI runs the
 * suite once per engine.
 */
export const ENGINES: Engine[] = process.env.SWITCHBOARD_TEST_ENGINE
  ? [TEST_ENGINE]
  : postgresAvailableFor('the Postgres half of describe.each(ENGINES) suites')
    ? ['sqlite', 'postgres']
    : ['sqlite'];

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
