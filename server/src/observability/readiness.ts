import { type Kysely, sql } from 'kysely';
import type { Encryptor } from '../crypto/envelope.js';
import type { Engine } from '../db/database.js';
import { pendingMigrations } from '../db/migrations.js';
import type { Database } from '../db/schema.js';

export interface Readiness {
  ready: boolean;
  checks: {
    /** `ok`, or `unreachable` when a trivial query fails. */
    database: 'ok' | 'unreachable';
    /** `current`, `pending` (this build has migrations the database lacks), or `unknown` when it cannot be read. */
    migrations: 'current' | 'pending' | 'unknown';
    /** `loaded`: the encryption key that seals new secrets is in memory. */
    encryption_key: 'loaded' | 'missing';
  };
}

/**
 * What /readyz answers: ready only when the database answers, its schema is at this build's
 * latest migration (a replica of an older build sharing a newer database, or one whose
 * migration failed, is not), and the encryption key is loaded. Names no key id, table or host.
 */
export async function checkReadiness(deps: {
  db: Kysely<Database>;
  engine: Engine;
  encryptor: Encryptor;
}): Promise<Readiness> {
  const encryption_key = deps.encryptor.hasKey(deps.encryptor.currentKeyId) ? 'loaded' : 'missing';
  let schema: string | undefined;
  try {
    if (deps.engine === 'postgres') {
      schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(deps.db)).rows[0]?.schema;
    } else {
      await sql`select 1`.execute(deps.db);
    }
  } catch {
    return { ready: false, checks: { database: 'unreachable', migrations: 'unknown', encryption_key } };
  }
  let migrations: Readiness['checks']['migrations'];
  try {
    migrations = (await pendingMigrations(deps.db as Kysely<unknown>, { schema })).length ? 'pending' : 'current';
  } catch {
    migrations = 'unknown';
  }
  return {
    ready: migrations === 'current' && encryption_key === 'loaded',
    checks: { database: 'ok', migrations, encryption_key },
  };
}
