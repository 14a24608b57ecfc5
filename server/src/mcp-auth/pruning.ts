import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import './tables.js';

/** Revoked grants (with their spent tokens) stay this long after the revocation, for the record. */
export const REVOKED_GRANT_KEEP_MS = 30 * 86_400_000;

/**
 * Deletes the authorization server's rows nobody can use any more, `batchRows` at a time:
 * authorize requests, codes and refresh tokens that expired before `expiredBefore`, and grants
 * revoked before `revokedBefore` (their codes and tokens go with them). A replayed refresh token
 * older than its expiry is then simply unknown, which refuses it all the same.
 */
export async function pruneMcpOAuth(
  db: Kysely<Database>,
  cutoffs: { expiredBefore: string; revokedBefore: string },
  batchRows: number,
  stopped: () => boolean,
): Promise<number> {
  const targets = [
    { table: 'mcp_oauth_requests', key: 'id', column: 'expires_at', before: cutoffs.expiredBefore },
    { table: 'mcp_oauth_codes', key: 'code_hash', column: 'expires_at', before: cutoffs.expiredBefore },
    { table: 'mcp_oauth_refresh_tokens', key: 'token_hash', column: 'expires_at', before: cutoffs.expiredBefore },
    { table: 'mcp_oauth_grants', key: 'id', column: 'revoked_at', before: cutoffs.revokedBefore },
  ] as const;
  let total = 0;
  for (const target of targets) {
    for (;;) {
      // DELETE … LIMIT is not portable; a key subquery with LIMIT works on SQLite and Postgres.
      const result = await sql`
        delete from ${sql.table(target.table)} where ${sql.ref(target.key)} in (
          select ${sql.ref(target.key)} from ${sql.table(target.table)}
          where ${sql.ref(target.column)} < ${target.before} limit ${batchRows}
        )`.execute(db);
      const deleted = Number(result.numAffectedRows ?? 0);
      total += deleted;
      if (deleted < batchRows || stopped()) break;
    }
  }
  return total;
}
