import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import './tables.js';

/** Revoked grants (with their spent tokens) stay this long after the revocation, for the record. */
export const REVOKED_GRANT_KEEP_MS = 30 * 86_400_000;

/**
 * A dynamically registered client that no grant (and no authorize request) names is deleted
 * this long after it registered. Registration is open to anyone without a login, so unused
 * clients would otherwise pile up without bound; a real client registers right before it
 * sends its user to sign in, which takes minutes, so a day leaves room for a user who comes
 * back later. A client deleted this way that comes back is refused as unregistered (the user
 * sees why on the authorize page) and has to register again.
 */
export const UNUSED_CLIENT_KEEP_MS = 24 * 3_600_000;

/**
 * Deletes the authorization server's rows nobody can use any more, `batchRows` at a time:
 * authorize requests, codes and refresh tokens that expired before `expiredBefore`, and grants
 * revoked before `revokedBefore` (their codes and tokens go with them), then registered clients
 * created before `registeredBefore` that no grant or authorize request names (after the grants,
 * so a client whose last grant just went goes in the same pass). A replayed refresh token
 * older than its expiry is then simply unknown, which refuses it all the same.
 */
export async function pruneMcpOAuth(
  db: Kysely<Database>,
  cutoffs: { expiredBefore: string; revokedBefore: string; registeredBefore: string },
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
  for (;;) {
    // An anti-join rather than NOT EXISTS: neither table has an index on client_id, and on
    // SQLite a correlated subquery scans them once per client (a join gets an automatic index).
    const result = await sql`
      delete from mcp_oauth_clients where client_id in (
        select c.client_id from mcp_oauth_clients c
        left join mcp_oauth_grants g on g.client_id = c.client_id
        left join mcp_oauth_requests r on r.client_id = c.client_id
        where c.created_at < ${cutoffs.registeredBefore} and g.id is null and r.id is null
        limit ${batchRows}
      )`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    if (deleted < batchRows || stopped()) break;
  }
  return total;
}
