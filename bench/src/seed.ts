import { setImmediate as nextTurn } from 'node:timers/promises';
import { createEncryptor, type Database, hashSecret, newId, newSecret, openDatabase } from '@switchboard/server';
import { type Insertable, sql } from 'kysely';
import { BENCH_ENCRYPTION_KEY } from './stack.js';

const BATCH = 1_000;

export interface SeedResult {
  users: number;
  accounts: number;
  seconds: number;
  /** Instance URL secrets of a sample of the seeded users, to drive load at them. */
  sample: { user: string; instanceId: string; secret: string }[];
  /** Postgres: its buffer cache (shared_buffers) and the seeded tables' size with their indexes, in MB. */
  postgres?: { sharedBuffersMb: number; tablesMb: number };
}

/**
 * Bulk-loads `users` users, each with an instance of `configId` and an ACTIVE account on
 * every template connection, straight into the database (as a migration from another
 * system would). Rows are real: each one's secrets are encrypted under its own row
 * context, the token set copied from a template account that went through real consent.
 */
export async function seedUsers(options: {
  databaseUrl?: string;
  dataDir: string;
  configId: string;
  /** One consented account per connection, whose tokens every seeded account reuses. */
  templateAccountIds: string[];
  users: number;
  sampleSize: number;
}): Promise<SeedResult> {
  const started = performance.now();
  const encryptor = createEncryptor(BENCH_ENCRYPTION_KEY);
  const handle = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, poolSize: 2 });
  try {
    const templates = await handle.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', 'in', options.templateAccountIds)
      .execute();
    const plain = templates.map((row) => {
      if (!row.tokens_enc || !row.key_id) throw new Error(`template account ${row.id} has no tokens`);
      return {
        row,
        tokens: encryptor.decrypt(row.tokens_enc, row.key_id, `connected_accounts:${row.id}:tokens`),
      };
    });
    const now = new Date().toISOString();
    const sampleEvery = Math.max(1, Math.floor(options.users / options.sampleSize));
    const sample: SeedResult['sample'] = [];
    let accounts = 0;
    for (let start = 0; start < options.users; start += BATCH) {
      const instances: Insertable<Database['mcp_instances']>[] = [];
      const rows: Insertable<Database['connected_accounts']>[] = [];
      for (let i = start; i < Math.min(options.users, start + BATCH); i++) {
        const user = `seeded-user-${i}`;
        const instanceId = newId('inst');
        const secret = newSecret();
        const sealed = encryptor.encrypt(secret, `mcp_instances:${instanceId}:url_secret`);
        instances.push({
          id: instanceId,
          config_id: options.configId,
          user_identifier: user,
          name: 'default',
          url_secret_hash: hashSecret(secret),
          url_secret_enc: sealed.ciphertext,
          key_id: sealed.keyId,
          last_used_at: null,
          created_at: now,
          updated_at: now,
        });
        if (i % sampleEvery === 0 && sample.length < options.sampleSize) sample.push({ user, instanceId, secret });
        for (const template of plain) {
          const id = newId('ca');
          const tokens = encryptor.encrypt(template.tokens, `connected_accounts:${id}:tokens`);
          rows.push({
            ...template.row,
            id,
            identifier: user,
            tokens_enc: tokens.ciphertext,
            key_id: tokens.keyId,
            token_version: 1,
            last_used_at: null,
            created_at: now,
            updated_at: now,
          });
        }
      }
      accounts += rows.length;
      await handle.db.transaction().execute(async (trx) => {
        await trx.insertInto('mcp_instances').values(instances).execute();
        // Half a batch per statement stays below Postgres's 65,535 bind parameters.
        for (let at = 0; at < rows.length; at += BATCH / 2) {
          await trx
            .insertInto('connected_accounts')
            .values(rows.slice(at, at + BATCH / 2))
            .execute();
        }
      });
      // SQLite runs each statement within the turn: without a turn between batches the whole
      // seed (~20 s) holds this process's event loop, and the keep-alive sockets the server
      // closed meanwhile are still taken for the next requests, which then fail.
      await nextTurn();
    }
    if (handle.engine === 'postgres') {
      // What autovacuum does within a minute of a bulk load, done before anything is measured:
      // otherwise the first read of each new row sets its hint bits (dirtying its page) and
      // autovacuum runs during the first rounds, so the cold pass would time Postgres's care of
      // fresh rows, not what a call costs against a table in steady state.
      await sql`vacuum (analyze) mcp_instances, connected_accounts`.execute(handle.db);
    }
    const seconds = (performance.now() - started) / 1000;
    if (handle.engine !== 'postgres') return { users: options.users, accounts, seconds, sample };
    const { rows } = await sql<{ shared_buffers: string; tables: string }>`
      select pg_size_bytes(current_setting('shared_buffers')) as shared_buffers,
             pg_total_relation_size('mcp_instances') + pg_total_relation_size('connected_accounts') as tables`.execute(
      handle.db,
    );
    const mb = (bytes: string | undefined) => Number(bytes) / 2 ** 20;
    const postgres = { sharedBuffersMb: mb(rows[0]?.shared_buffers), tablesMb: mb(rows[0]?.tables) };
    return { users: options.users, accounts, seconds, sample, postgres };
  } finally {
    await handle.close();
  }
}
