import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import { OldestFirst } from '../cache/oldest-first.js';
import { StartupError } from '../errors.js';
import { migrateToLatest } from './migrations.js';
import { withNamedStatements } from './pg-statements.js';
import type { Database } from './schema.js';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, type CheckpointStats, SqliteCheckpointer } from './sqlite-checkpointer.js';

export type Engine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** Raw pool for LISTEN/NOTIFY and similar; Postgres only. */
  pool?: pg.Pool;
  /** The WAL checkpoints run off the event loop; SQLite files only. */
  checkpoints?: CheckpointStats;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; absent = SQLite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** SQLite file name inside dataDir, or ':memory:'. */
  sqliteFile?: string;
  /** Postgres schema to use (tests give each suite its own). Created when missing. */
  postgresSchema?: string;
  /** Postgres connections at most (MAX_CONNECTIONS unless given). */
  poolSize?: number;
  /** Postgres: how long a connection beyond the kept ones may stay idle (IDLE_CONNECTION_MS unless given). */
  idleConnectionMs?: number;
  /** Postgres: run repeated statements as named (prepared) ones, see pg-statements.ts. On unless false. */
  preparedStatements?: boolean;
  /** Told when SQLite's checkpointer thread fails (once); its backstop keeps the WAL bounded. */
  onCheckpointError?: (message: string) => void;
  /** Told when a newer build has migrated the database (migrations.ts migrateToLatest): which migrations. */
  onNewerSchema?: (migrations: string[]) => void;
}

/**
 * Postgres connections a pool opens at most, keeps however quiet it gets, and how long one
 * beyond the kept ones may stay idle. Opening one costs Postgres a backend process and its
 * prepared statements again: ~15 ms here, against ~0.5 ms for a query on an open one. With
 * pg's defaults (none kept, 10 s idle) a deployment whose agents call every minute or so paid
 * that on nearly every call; two kept cover a call's lookup and a write-behind flush at once.
 */
const MAX_CONNECTIONS = 10;
export const KEPT_CONNECTIONS = 2;
const IDLE_CONNECTION_MS = 60_000;

/** Distinct SQL texts kept prepared; beyond this the oldest go first. */
const MAX_PREPARED_STATEMENTS = 200;

/**
 * better-sqlite3 for Kysely with prepared statements reused. Kysely prepares every query
 * again, and preparing cost more than running it (a fifth of a management call's CPU in
 * bench/ profiles). Reuse is safe here: Kysely runs one query at a time on its single
 * SQLite connection, and SQLite prepares a statement again itself after a schema change.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  const oldest = new OldestFirst(statements);
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size >= MAX_PREPARED_STATEMENTS) oldest.evict();
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * The driver of the engine in use, imported when a database of its kind is opened: a process
 * loads one of the two, and pg (with its type parsers) is ~3 MB of heap and tens of ms of
 * start that a SQLite install never needs.
 */
async function postgresDriver(): Promise<typeof pg> {
  const { default: driver } = await import('pg');
  // pg returns BIGINT and NUMERIC as strings by default; our counters fit in a JS number.
  driver.types.setTypeParser(20, (value) => Number.parseInt(value, 10));
  return driver;
}

/** Where DATABASE_URL points, for a message: host, port, user and database, never the password. */
function describeTarget(databaseUrl: string): { where: string; user: string } {
  try {
    const url = new URL(databaseUrl);
    return {
      where: `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname.length > 1 ? url.pathname : ''}`,
      user: decodeURIComponent(url.username) || '(default user)',
    };
  } catch {
    return { where: '(unreadable DATABASE_URL)', user: '(default user)' };
  }
}

/** A failure to reach or sign in to PostgreSQL as one line and its fix; other errors pass through. */
function explainConnectError(error: unknown, databaseUrl: string): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  const { where, user } = describeTarget(databaseUrl);
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH'
  ) {
    return new StartupError(
      `cannot reach PostgreSQL at ${where} (${code})`,
      'start PostgreSQL there, or fix the host and port in DATABASE_URL',
      { cause: error },
    );
  }
  // 28P01: wrong password; 28000: no such role, or pg_hba.conf refuses the connection.
  if (code === '28P01' || code === '28000') {
    return new StartupError(
      `PostgreSQL at ${where} refused user "${user}" (${(error as Error).message})`,
      'fix the user and password in DATABASE_URL, or allow this user in pg_hba.conf',
      { cause: error },
    );
  }
  if (code === '3D000') {
    return new StartupError(
      `PostgreSQL at ${where} has no such database (${(error as Error).message})`,
      'create it (createdb) or fix the database name in DATABASE_URL',
      { cause: error },
    );
  }
  return error;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const databaseUrl = options.databaseUrl;
    try {
      return await openPostgres(databaseUrl, options);
    } catch (error) {
      throw explainConnectError(error, databaseUrl);
    }
  }
  return openSqlite(options);
}

async function openPostgres(databaseUrl: string, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const schema = options.postgresSchema;
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid Postgres schema name: ${schema}`);
  const pg = await postgresDriver();
  if (schema) {
    const setup = new pg.Client({ connectionString: databaseUrl });
    await setup.connect();
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await setup.end();
    }
  }
  const max = options.poolSize ?? MAX_CONNECTIONS;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    min: Math.min(KEPT_CONNECTIONS, max),
    idleTimeoutMillis: options.idleConnectionMs ?? IDLE_CONNECTION_MS,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: options.preparedStatements === false ? pool : withNamedStatements(pool) }),
  });
  const current = await sql<{ schema: string }>`select current_schema() as schema`
    .execute(db)
    .catch(async (error: unknown) => {
      await db.destroy();
      throw error;
    });
  try {
    const { newer } = await migrateToLatest(db as Kysely<unknown>, { schema: current.rows[0]?.schema ?? 'public' });
    if (newer.length) options.onNewerSchema?.(newer);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, engine: 'postgres', pool, close: () => db.destroy() };
}

async function openSqlite(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const file = options.sqliteFile ?? 'switchboard.db';
  const path = file === ':memory:' ? file : join(options.dataDir, file);
  if (path !== ':memory:') {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // The file holds every secret's ciphertext: create it owner-only (SQLite gives its -wal
    // and -shm files the database file's mode); an existing file keeps its mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const { default: Driver } = await import('better-sqlite3');
  const sqlite = new Driver(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // A user's first call reads their instance, account and token rows from pages no earlier
  // call touched. With a read() per page that cold call was ~0.4 ms dearer than a warm one at
  // 100,000 users; memory-mapped reads take those system calls away, and pages read through
  // the map do not take room in the page cache. The cache still keeps every page written (the
  // call log's, the marks') until it is full: at 64 MB it grew the process by ~50 MB under
  // sustained load while cold calls cost the same at 2, 16 or 64 MB (bench scale), so 8 MB.
  sqlite.pragma('cache_size = -8192');
  sqlite.pragma('mmap_size = 268435456');
  const checkpointer =
    path === ':memory:' ? undefined : new SqliteCheckpointer(path, options.onCheckpointError ?? (() => undefined));
  if (checkpointer) sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  try {
    const { newer } = await migrateToLatest(db as Kysely<unknown>);
    if (newer.length) options.onNewerSchema?.(newer);
  } catch (error) {
    await checkpointer?.close();
    throw error;
  }
  return {
    db,
    engine: 'sqlite',
    ...(checkpointer ? { checkpoints: checkpointer.stats } : {}),
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}
