import type { ColumnType } from 'kysely';

/**
 * The tables, as Kysely sees them. Times are ISO-8601 UTC strings (sortable as text on both
 * engines), lists are JSON text, booleans are 0/1. Secret columns end in `_enc` and are
 * always ciphertext from crypto/envelope.ts, with the master key id in `key_id`.
 */
export interface ApiClientsTable {
  id: string;
  client_id: string;
  secret_hash: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** `admin` (every call) or `read` (GET only). */
  scope: 'admin' | 'read';
  /** Bumped by a secret rotation: access tokens carry it, and older ones are refused. */
  token_version: number;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  private_jwk_enc: string;
  key_id: string;
  public_jwk: string;
  created_at: string;
}

export interface ConnectionsTable {
  id: string;
  name: string;
  provider: string;
  /** Where OAuth and API calls go: the built-in sandbox or the real provider. */
  target: 'sandbox' | 'provider';
  oauth_client_id: string;
  oauth_client_secret_enc: string | null;
  key_id: string | null;
  scopes: string;
  /** The app page that confirms who consented (user verification) for links of this connection; null = none. */
  user_verify_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConnectedAccountsTable {
  id: string;
  connection_id: string;
  identifier: string;
  status: string;
  /** Why the status is what it is (e.g. invalid_grant at refresh); never a secret. */
  status_reason: string | null;
  /** JSON {access_token, refresh_token, token_type} */
  tokens_enc: string | null;
  key_id: string | null;
  token_expires_at: string | null;
  granted_scopes: string;
  /** The provider account that consented (e.g. the Google email). */
  provider_account: string | null;
  /**
   * The provider's stable id of that account (OpenID `sub`), bound at the first consent: a
   * consent by another provider account is refused until a disconnect or delete resets it.
   */
  provider_subject: string | null;
  /** Bumped on every token write, so caches and racing refreshes can tell versions apart. */
  token_version: number;
  last_used_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuthLinksTable {
  id: string;
  token_hash: string;
  connected_account_id: string;
  expires_at: string;
  /** Spent by the first consent that completes through it, successful or not. */
  used_at: string | null;
  /** Revoked by a newer link for the account, a disconnect or a delete. */
  revoked_at: string | null;
  /** Where the browser goes for user verification after the consent; null = none. */
  user_verify_url: string | null;
  /** The caller's opaque state, handed back on the verify URL. */
  verify_state: string | null;
  /** JSON array of scopes asked for besides the connection's (its config's tools need them); null = none. */
  extra_scopes: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
}

export interface AuthRequestsTable {
  id: string;
  state_hash: string;
  connected_account_id: string;
  code_verifier_enc: string;
  key_id: string;
  /** The authentication link this request was opened from (null for rows older than 0003). */
  auth_link_id: string | null;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

/**
 * A finished consent waiting for the app to confirm who gave it (reference:
 * VerifyConnectedAccountUser). The `auth_request_id` the app receives is a secret: only its
 * SHA-256 is kept. The consent's grant waits here, sealed, until the app confirms the user:
 * the account keeps its own grant meanwhile (crypto/contexts.ts heldGrant).
 */
export interface UserVerificationsTable {
  id: string;
  request_hash: string;
  connected_account_id: string;
  /** The provider account that consented, bound to the account only once verified. */
  provider_subject: string | null;
  provider_account: string | null;
  expires_at: string;
  used_at: string | null;
  created_at: string;
  /** The held grant (tokens and the OAuth app they came from); null once applied, dropped or expired, or held on the account by an older build. */
  tokens_enc: string | null;
  key_id: string | null;
}

/**
 * Append-only history of an account's lifecycle (links, consents, verification, refresh
 * failures, disconnects, deletes). Never holds tokens or link secrets; outlives the account.
 */
export interface AccountEventsTable {
  id: string;
  connected_account_id: string;
  connection_id: string | null;
  identifier: string;
  type: string;
  /** JSON object of non-secret facts (link id and expiry, provider account, reason). */
  detail: string;
  created_at: string;
}

export interface McpConfigsTable {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface McpConfigMappingsTable {
  config_id: string;
  connection_id: string;
  position: number;
  /** JSON array of tool names; empty = every tool of the connection's provider */
  tools: string;
}

export interface McpInstancesTable {
  id: string;
  config_id: string;
  user_identifier: string;
  name: string;
  url_secret_hash: string;
  url_secret_enc: string;
  key_id: string;
  last_used_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ToolCallLogsTable {
  id: string;
  execution_id: string;
  tool_name: string;
  provider: string | null;
  connection_id: string | null;
  connection_name: string | null;
  connected_account_id: string | null;
  identifier: string | null;
  status: 'SUCCESS' | 'FAILED';
  error_code: string | null;
  /** The failure's message with secrets and links redacted (execution/call-details.ts). */
  error_message: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON: the call's arguments as a redacted, size-capped summary, never bodies or tokens. */
  argument_summary: ColumnType<string | null, string | null | undefined, string | null>;
  duration_ms: number;
  source: 'API' | 'MCP' | 'GRPC';
  /** 1, or n for the caller's (n-1)th retry of the same failed call. */
  attempt: ColumnType<number, number | undefined, number>;
  instance_id: string | null;
  created_at: string;
}

/** Monotonic counters that replicas poll to drop cached state (see cache/). */
export interface ChangeVersionsTable {
  scope: string;
  version: number;
}

/** A dashboard sign-in; the cookie holds the token, the table only its SHA-256. */
export interface DashboardSessionsTable {
  id_hash: string;
  api_client_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  /** Absolute end, whatever the activity. */
  expires_at: string;
}

/**
 * Per (config, identifier): how many times its MCP session tokens were revoked; a token
 * minted at a smaller count is refused. `not_before` orders the tokens minted before the
 * count existed (no `rev` claim), by the revoking replica's clock.
 */
export interface McpSessionRevocationsTable {
  config_id: string;
  identifier: string;
  not_before: string;
  generation: ColumnType<number, number | undefined, number>;
}

export interface Database {
  api_clients: ApiClientsTable;
  signing_keys: SigningKeysTable;
  connections: ConnectionsTable;
  connected_accounts: ConnectedAccountsTable;
  auth_links: AuthLinksTable;
  auth_requests: AuthRequestsTable;
  user_verifications: UserVerificationsTable;
  account_events: AccountEventsTable;
  mcp_configs: McpConfigsTable;
  mcp_config_mappings: McpConfigMappingsTable;
  mcp_instances: McpInstancesTable;
  tool_call_logs: ToolCallLogsTable;
  change_versions: ChangeVersionsTable;
  dashboard_sessions: DashboardSessionsTable;
  mcp_session_revocations: McpSessionRevocationsTable;
}
