import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from './contexts.js';
import { EncryptionKeyError, type Encryptor, keyMismatchMessage, unconfiguredKeysMessage } from './envelope.js';

/** How many secrets of one table are sealed under one master key id. */
export interface SealedCount {
  table: string;
  keyId: string;
  rows: number;
}

interface ColumnCount extends SealedCount {
  spec: EncryptedColumn;
  /** The row key of one of those secrets, to try the key on. */
  sampleId: string;
}

// The tables differ in shape; these queries only touch the row key, the column and key_id.
type Untyped = Kysely<Record<string, Record<string, string | null>>>;

async function countColumn(db: Untyped, spec: EncryptedColumn): Promise<ColumnCount[]> {
  const rows = await db
    .selectFrom(spec.table)
    .select((eb) => [
      'key_id',
      eb.fn.countAll<number | string | bigint>().as('rows'),
      eb.fn.min<string>(spec.key).as('sample_id'),
    ])
    .where(spec.column, 'is not', null)
    .groupBy('key_id')
    .orderBy('key_id')
    .execute();
  return rows.map((row) => ({
    spec,
    table: spec.table,
    keyId: row.key_id ?? '',
    rows: Number(row.rows),
    sampleId: row.sample_id,
  }));
}

/**
 * How many stored secrets each master key id seals, per encrypted column (crypto/contexts.ts).
 * No index covers key_id, so each table is read once in full: measured ~0.2 s per million
 * connected_accounts rows (warm cache) on both SQLite and Postgres, answered in a few rows.
 */
export async function countSealedByKeyId(db: Kysely<Database>): Promise<SealedCount[]> {
  const counts: SealedCount[] = [];
  for (const spec of Object.values(ENCRYPTED_COLUMNS)) {
    for (const { table, keyId, rows } of await countColumn(db as unknown as Untyped, spec)) {
      counts.push({ table, keyId, rows });
    }
  }
  return counts;
}

/**
 * The start-up check: every stored secret names a configured key, and each key in use opens
 * one secret of each table it seals, so a forgotten or wrong key stops the start rather than
 * every call that meets its rows. Returns the secrets still under an older key (for a warning).
 */
export async function checkStoredKeys(
  db: Kysely<Database>,
  encryptor: Encryptor,
  keySource: { dataDir: string; fromFile: boolean },
): Promise<SealedCount[]> {
  const untyped = db as unknown as Untyped;
  const sealed: ColumnCount[] = [];
  for (const spec of Object.values(ENCRYPTED_COLUMNS)) sealed.push(...(await countColumn(untyped, spec)));
  const unconfigured = sealed.filter((s) => !encryptor.hasKey(s.keyId));
  if (unconfigured.length > 0) {
    throw new EncryptionKeyError(
      'key_not_configured',
      unconfiguredKeysMessage(unconfigured, keySource.dataDir, keySource.fromFile),
    );
  }
  for (const { spec, keyId, sampleId } of sealed) {
    const row = await untyped
      .selectFrom(spec.table)
      .select([spec.column, 'key_id'])
      .where(spec.key, '=', sampleId)
      .executeTakeFirst();
    // Gone since the count, or resealed by a replica meanwhile: nothing to try.
    const ciphertext = row?.[spec.column];
    if (!row || row.key_id !== keyId || ciphertext == null) continue;
    try {
      encryptor.decrypt(ciphertext, keyId, spec.context(sampleId));
    } catch (cause) {
      if (!(cause instanceof EncryptionKeyError)) throw cause;
      throw new EncryptionKeyError(
        'key_mismatch',
        keyId === encryptor.currentKeyId
          ? keyMismatchMessage(keyId, keySource.dataDir, keySource.fromFile)
          : `the key with id "${keyId}" in SWITCHBOARD_ENCRYPTION_KEYS_OLD cannot decrypt the secrets sealed with that id (in ${spec.table}); ` +
              'nothing was changed. Put the key that sealed them there (from your secret manager, or kept with the backups taken before the rotation).',
        { cause },
      );
    }
  }
  return sealed
    .filter((s) => s.keyId !== encryptor.currentKeyId)
    .map(({ table, keyId, rows }) => ({ table, keyId, rows }));
}
