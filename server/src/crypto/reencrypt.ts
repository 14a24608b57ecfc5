import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Encryptor } from './envelope.js';

/**
 * Every encrypted column, with the context string its ciphertext is bound to. Adding a
 * secret column means adding it here, so key rotation covers it.
 */
const SECRET_COLUMNS = [
  {
    table: 'connections',
    key: 'id',
    column: 'oauth_client_secret_enc',
    context: (id: string) => `connections:${id}:oauth_client_secret`,
  },
  {
    table: 'connected_accounts',
    key: 'id',
    column: 'tokens_enc',
    context: (id: string) => `connected_accounts:${id}:tokens`,
  },
  {
    table: 'auth_requests',
    key: 'id',
    column: 'code_verifier_enc',
    context: (id: string) => `auth_requests:${id}:code_verifier`,
  },
  {
    table: 'mcp_instances',
    key: 'id',
    column: 'url_secret_enc',
    context: (id: string) => `mcp_instances:${id}:url_secret`,
  },
  { table: 'signing_keys', key: 'kid', column: 'private_jwk_enc', context: (id: string) => `signing_keys:${id}` },
] as const;

/** Rewraps every secret still under an older master key with the current one. Idempotent. */
export async function reencryptAll(db: Kysely<Database>, encryptor: Encryptor): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // The tables differ in shape; this loop only touches the key, the column and key_id.
  const untyped = db as unknown as Kysely<Record<string, Record<string, string | null>>>;
  for (const spec of SECRET_COLUMNS) {
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
