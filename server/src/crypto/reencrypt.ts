import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ENCRYPTED_COLUMNS } from './contexts.js';
import type { Encryptor } from './envelope.js';
import { countSealedByKeyId, type SealedCount } from './stored-keys.js';

export interface ReencryptResult {
  /** Secrets rewrapped with the current key, per table. */
  reencrypted: Record<string, number>;
  /**
   * Secrets still under another key once the pass is over, per table and key id: sealed
   * meanwhile by a replica that still runs with the old key as its current one. Empty when done.
   */
  remaining: SealedCount[];
}

/** Rows read per query: a pass over millions of accounts holds one page of ciphertexts at a time. */
export const REENCRYPT_PAGE_ROWS = 1_000;

/**
 * Rewraps every secret (every column in crypto/contexts.ts) still under an older master key
 * with the current one, then counts again what is not under it. Idempotent. Reads each table a
 * page at a time in key order (`pageRows`; tests pass fewer), so its memory does not grow
 * with the table.
 */
export async function reencryptAll(
  db: Kysely<Database>,
  encryptor: Encryptor,
  pageRows = REENCRYPT_PAGE_ROWS,
): Promise<ReencryptResult> {
  const reencrypted: Record<string, number> = {};
  // The tables differ in shape; this loop only touches the key, the column and key_id.
  const untyped = db as unknown as Kysely<Record<string, Record<string, string | null>>>;
  for (const spec of Object.values(ENCRYPTED_COLUMNS)) {
    let done = 0;
    // Keyset paging: a row rewrapped leaves the filter, so offsets would skip rows; keys do not.
    for (let after: string | undefined; ; ) {
      const rows = await untyped
        .selectFrom(spec.table)
        .select([spec.key, spec.column, 'key_id'])
        .where('key_id', '!=', encryptor.currentKeyId)
        .where(spec.column, 'is not', null)
        .$if(after !== undefined, (query) => query.where(spec.key, '>', after as string))
        .orderBy(spec.key)
        .limit(pageRows)
        .execute();
      for (const row of rows) {
        const id = row[spec.key] as string;
        const plaintext = encryptor.decrypt(row[spec.column] as string, row.key_id as string, spec.context(id));
        const sealed = encryptor.encrypt(plaintext, spec.context(id));
        const updated = await untyped
          .updateTable(spec.table)
          .set({ [spec.column]: sealed.ciphertext, key_id: sealed.keyId })
          .where(spec.key, '=', id)
          // Only the secret as read: one a replica rewrote meanwhile (a refreshed token) is
          // newer than this plaintext, and the count at the end sees it if it is still old.
          .where(spec.column, '=', row[spec.column] as string)
          .executeTakeFirst();
        if (updated.numUpdatedRows > 0n) done++;
      }
      if (rows.length < pageRows) break;
      after = rows[rows.length - 1]?.[spec.key] as string;
    }
    reencrypted[spec.table] = done;
  }
  // Rows a replica still sealing with an old key wrote after their table was read, or rewrote during its pass.
  const remaining = (await countSealedByKeyId(db)).filter((count) => count.keyId !== encryptor.currentKeyId);
  return { reencrypted, remaining };
}
