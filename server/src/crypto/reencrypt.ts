import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ENCRYPTED_COLUMNS } from './contexts.js';
import type { Encryptor } from './envelope.js';

/** Rewraps every secret (every column in crypto/contexts.ts) still under an older master key with the current one. Idempotent. */
export async function reencryptAll(db: Kysely<Database>, encryptor: Encryptor): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // The tables differ in shape; this loop only touches the key, the column and key_id.
  const untyped = db as unknown as Kysely<Record<string, Record<string, string | null>>>;
  for (const spec of Object.values(ENCRYPTED_COLUMNS)) {
    const rows = await untyped
      .selectFrom(spec.table)
      .select([spec.key, spec.column, 'key_id'])
      .where('key_id', '!=', encryptor.currentKeyId)
      .where(spec.column, 'is not', null)
      .execute();
    let done = 0;
    for (const row of rows) {
      const id = row[spec.key] as string;
      const plaintext = encryptor.decrypt(row[spec.column] as string, row.key_id as string, spec.context(id));
      const sealed = encryptor.encrypt(plaintext, spec.context(id));
      await untyped
        .updateTable(spec.table)
        .set({ [spec.column]: sealed.ciphertext, key_id: sealed.keyId })
        .where(spec.key, '=', id)
        .where('key_id', '=', row.key_id as string)
        .execute();
      done++;
    }
    counts[spec.table] = done;
  }
  return counts;
}
