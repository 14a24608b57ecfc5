import type { McpConnectionAuthState } from '@switchboard/sdk';
import type { Kysely } from 'kysely';
import type { ConnectFlow } from '../accounts/connect-flow.js';
import type { ConnectedAccounts } from '../accounts/connected-accounts.js';
import type { Database } from '../db/schema.js';
import type { Catalog } from '../providers/index.js';
import type { MappingDetail } from './configs.js';
import { missingScopes, scopeNeeds } from './scope-needs.js';

export interface AuthStateOptions {
  /** Create missing accounts as PENDING_AUTH. */
  create: boolean;
  /** Issue a fresh authentication link for every account that is not ACTIVE or lacks a scope the config needs. */
  links: boolean;
  /** User verification for those links (see ConnectFlow.authLink). */
  userVerifyUrl?: string;
  state?: string;
}

/**
 * Where a user stands on each connection of a config. Links are issued only for accounts
 * that are not ACTIVE, or ACTIVE but short of a scope the config's tools need: a link lets
 * whoever opens it bind a provider account, so an account that can run every tool does not
 * get one unasked. Links ask for the connection's scopes and the ones the config's tools need
 * beyond them (incremental authorization; Google adds what was granted before, see
 * providers/google/oauth.ts).
 */
export async function authState(
  deps: { db: Kysely<Database>; accounts: ConnectedAccounts; connectFlow: ConnectFlow; catalog: Catalog },
  mappings: MappingDetail[],
  identifier: string,
  options: AuthStateOptions,
): Promise<McpConnectionAuthState[]> {
  if (!mappings.length) return [];
  const connectionIds = mappings.map((m) => m.connection_id);
  const [connections, accounts] = await Promise.all([
    deps.db.selectFrom('connections').selectAll().where('id', 'in', connectionIds).execute(),
    deps.db
      .selectFrom('connected_accounts')
      .select(['id', 'connection_id', 'status', 'granted_scopes'])
      .where('connection_id', 'in', connectionIds)
      .where('identifier', '=', identifier)
      .execute(),
  ]);
  const connectionById = new Map(connections.map((c) => [c.id, c]));
  const accountByConnection = new Map(accounts.map((a) => [a.connection_id, a]));
  const out: McpConnectionAuthState[] = [];
  for (const mapping of mappings) {
    const connection = connectionById.get(mapping.connection_id);
    if (!connection) continue;
    let account: { id: string; status: string; granted_scopes: string } | undefined = accountByConnection.get(
      connection.id,
    );
    const needs = scopeNeeds(deps.catalog, mapping, JSON.parse(connection.scopes) as string[]);
    const missing =
      account?.status === 'ACTIVE' ? missingScopes(deps.catalog, mapping, JSON.parse(account.granted_scopes)) : [];
    let link = '';
    if (options.links && (account?.status !== 'ACTIVE' || missing.length) && (account || options.create)) {
      const issued = await deps.connectFlow.authLink(connection, identifier, {
        userVerifyUrl: options.userVerifyUrl,
        state: options.state,
        source: 'mcp_auth_state',
        extraScopes: needs.extra,
      });
      account = issued.account;
      link = issued.link;
    } else if (!account && options.create) {
      account = (await deps.accounts.ensureFor(connection, identifier)).account;
    }
    out.push({
      connection_id: connection.id,
      connection_name: connection.name,
      provider: connection.provider,
      connected_account_id: account?.id ?? '',
      // The status column is typed string until every writer writes a literal status (see accountToApi).
      connected_account_status: (account?.status ?? '') as McpConnectionAuthState['connected_account_status'],
      authentication_link: link,
      required_scopes: needs.required,
      missing_scopes: missing,
      needs_reauthorization: missing.length > 0,
    });
  }
  return out;
}
