/**
 * The tables of the MCP authorization server (migration 0006_mcp_oauth), added to the
 * Database type here, beside the module that owns them, rather than in db/schema.ts.
 * Booleans are integers (0/1) so both engines read them the same.
 */
declare module '../db/schema.js' {
  interface Database {
    mcp_config_access: McpConfigAccessTable;
    mcp_oauth_clients: McpOAuthClientsTable;
    mcp_oauth_requests: McpOAuthRequestsTable;
    mcp_oauth_grants: McpOAuthGrantsTable;
    mcp_oauth_codes: McpOAuthCodesTable;
    mcp_oauth_refresh_tokens: McpOAuthRefreshTokensTable;
  }
}

export interface McpConfigAccessTable {
  config_id: string;
  /** null: the server default (SWITCHBOARD_MCP_OAUTH). */
  oauth_enabled: number | null;
  instance_urls_enabled: number;
  session_tokens_enabled: number;
  login_url: string | null;
  require_active_accounts: number;
  updated_at: string;
  /** 'app' (hand-off to the login page) or 'oidc' (the OpenID Connect issuer); null: the server's choice. */
  login_mode: string | null;
}

export interface McpOAuthClientsTable {
  client_id: string;
  client_name: string;
  /** JSON array of strings. */
  redirect_uris: string;
  token_endpoint_auth_method: string;
  secret_hash: string | null;
  logo_uri: string | null;
  client_uri: string | null;
  created_at: string;
}

export interface McpOAuthRequestsTable {
  id: string;
  /** SHA-256 of the auth_request_id handed to the app's login page. */
  handoff_hash: string;
  /** SHA-256 of the cookie that binds the request to the browser that started it. */
  browser_hash: string;
  csrf_token: string;
  client_id: string;
  client_name: string;
  client_logo: string | null;
  redirect_uri: string;
  code_challenge: string;
  config_id: string;
  scope: string | null;
  state: string | null;
  /** Set when the app said who the user is. */
  identifier: string | null;
  /**
   * SHA-256 of the secret in the consent URL that the identity step (the app's answer, or the
   * issuer's redirect back) sends the browser to; set with the identifier.
   */
  consent_hash: string | null;
  expires_at: string;
  completed_at: string | null;
  created_at: string;
  /** OIDC upstream: SHA-256 of the state sent to the issuer, the nonce, and the PKCE verifier (encrypted). */
  upstream_state_hash: string | null;
  upstream_nonce: string | null;
  upstream_verifier_enc: string | null;
  key_id: string | null;
}

export interface McpOAuthGrantsTable {
  id: string;
  client_id: string;
  client_name: string;
  client_logo: string | null;
  config_id: string;
  identifier: string;
  scope: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface McpOAuthCodesTable {
  code_hash: string;
  grant_id: string;
  redirect_uri: string;
  code_challenge: string;
  expires_at: string;
  used_at: string | null;
}

export interface McpOAuthRefreshTokensTable {
  token_hash: string;
  grant_id: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}
