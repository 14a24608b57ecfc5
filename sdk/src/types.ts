/**
 * The wire types of the Switchboard REST API. Field names stay snake_case, exactly as the
 * server sends and accepts them, so these types read like the API reference.
 */

/** Pagination fields of every list answer. Tokens are opaque; an empty string means no more pages. */
export interface Page {
  next_page_token: string;
  prev_page_token: string;
  total_size: number;
}

/** Paging parameters of every list call. */
export interface PageParams {
  page_size?: number;
  page_token?: string;
}

// ---------------------------------------------------------------- connections

/** Where a connection sends its OAuth and API calls: the built-in sandbox or the real provider. */
export type ConnectionTarget = 'sandbox' | 'provider';

export interface Connection {
  id: string;
  name: string;
  provider: string;
  provider_display_name: string;
  target: ConnectionTarget;
  oauth_client_id: string;
  /** The OAuth client secret is never returned, only whether one is stored. */
  oauth_client_secret_set: boolean;
  scopes: string[];
  /** The scopes requested at consent: `scopes`, or the provider's defaults when empty. */
  effective_scopes: string[];
  /** The redirect URI to register in the OAuth app at the provider. */
  redirect_uri: string;
  /** The app page that confirms who consented (user verification) for this connection's links; empty = none. */
  user_verify_url: string;
  created_at: string;
  updated_at: string;
}

export interface CreateConnectionInput {
  /** 1–64 letters, digits, `_` or `-`, e.g. `MY_GMAIL`. Unique. */
  name: string;
  /** A provider of the catalog, e.g. `gmail`, `googlecalendar`. */
  provider: string;
  /** Defaults to `provider` when OAuth app credentials are given, else `sandbox`. */
  target?: ConnectionTarget;
  oauth_client_id?: string;
  oauth_client_secret?: string;
  scopes?: string[];
  /** Links of this connection send the browser here for user verification after the consent. */
  user_verify_url?: string;
}

export interface UpdateConnectionInput {
  name?: string;
  /**
   * Switching between `sandbox` and `provider` drops every grant of the connection's
   * accounts (they need a new consent), so it must be confirmed with `confirm_target_change`.
   */
  target?: ConnectionTarget;
  confirm_target_change?: boolean;
  oauth_client_id?: string;
  /** `null` clears the stored secret. */
  oauth_client_secret?: string | null;
  scopes?: string[];
  /** `null` clears it. */
  user_verify_url?: string | null;
}

export interface ListConnectionsParams extends PageParams {
  provider?: string;
}

export interface ConnectionList extends Page {
  connections: Connection[];
}

// ---------------------------------------------------------- connected accounts

/** Statuses as the server sends them; compare case-insensitively if you talk to other servers too. */
export type ConnectedAccountStatus = 'ACTIVE' | 'EXPIRED' | 'PENDING_AUTH' | 'PENDING_VERIFICATION' | 'DISCONNECTED';

export interface ConnectedAccountSummary {
  id: string;
  identifier: string;
  /** The connection's name. */
  connector: string;
  connection_id: string;
  provider: string;
  status: ConnectedAccountStatus;
  authorization_type: string;
  /** RFC 3339; absent when no token is stored (an unset timestamp is omitted, as protobuf JSON does). */
  token_expires_at?: string;
  /** Absent until the account is first used. */
  last_used_at?: string;
  updated_at: string;
}

export interface ConnectedAccount extends ConnectedAccountSummary {
  /** Granted scopes and the provider account (e.g. the email address). Tokens never leave the server. */
  authorization_details: { oauth_token: { scopes: string[]; domain: string } };
}

/** Names one connected account: by id, or by connection name and user identifier. */
export type AccountRef = { id: string } | { connector: string; identifier: string };

export interface ListConnectedAccountsParams extends PageParams {
  connector?: string;
  identifier?: string;
  provider?: string;
  status?: ConnectedAccountStatus;
  connection_names?: string[];
  connection_id?: string;
}

export interface SearchConnectedAccountsParams extends ListConnectedAccountsParams {
  /** At least 3 characters, matched against identifiers and connection names. */
  query: string;
}

export interface ConnectedAccountList extends Page {
  connected_accounts: ConnectedAccountSummary[];
}

/** Tokens obtained elsewhere, to store for an account (e.g. when migrating users). */
export interface OAuthTokenInput {
  access_token: string;
  refresh_token?: string;
  scopes?: string[];
  domain?: string;
  expires_in?: number;
}

export interface ConnectedAccountInput {
  api_config?: Record<string, unknown>;
  authorization_details?: { oauth_token?: OAuthTokenInput };
}

export interface CreateConnectedAccountInput {
  connector: string;
  identifier: string;
  connected_account?: ConnectedAccountInput;
}

export type UpdateConnectedAccountInput = AccountRef & { connected_account: ConnectedAccountInput };

export interface AuthorizationLink {
  /** Open it in the user's browser: it leads to the provider's consent screen. */
  link: string;
  /** When the link stops working, RFC 3339. */
  expiry: string;
}

export interface AuthorizationLinkOptions {
  /**
   * User verification: after the consent the browser goes here with `auth_request_id` (and
   * `state`); the new grant waits until your app calls `verifyUser`. Meanwhile an account that
   * is not ACTIVE is PENDING_VERIFICATION; an ACTIVE one keeps working on its own grant.
   * Defaults to the connection's `user_verify_url`, then the server's SWITCHBOARD_USER_VERIFY_URL.
   */
  user_verify_url?: string;
  /** Opaque value handed back to `user_verify_url`. */
  state?: string;
}

export interface VerifyUserInput {
  /** From the user verify URL's query. Single-use; expires 10 minutes after the consent. */
  auth_request_id: string;
  /** The identifier of the user logged in to your app; only the account's own activates it. */
  identifier: string;
}

export interface VerifyUserResult {
  /** Where to send the browser next: a Switchboard success page. */
  post_user_verify_redirect_url: string;
}

export type AccountEventType =
  | 'account.link_issued'
  | 'account.consent_completed'
  | 'account.consent_failed'
  | 'account.verification_requested'
  | 'account.verified'
  | 'account.verification_failed'
  | 'account.verification_expired'
  | 'account.identity_mismatch'
  | 'account.refresh_failed'
  | 'account.disconnected'
  | 'account.deleted';

/** One entry of an account's lifecycle history; never carries a token or link secret. */
export interface AccountEvent {
  id: string;
  connected_account_id: string;
  connection_id: string;
  identifier: string;
  type: AccountEventType;
  detail: Record<string, unknown>;
  created_at: string;
}

export interface AccountEventList extends Page {
  events: AccountEvent[];
}

// ---------------------------------------------------------------------- tools

/** What a tool declares about itself for MCP clients (the MCP tool annotations). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface Tool {
  id: string;
  provider: string;
  is_default: boolean;
  tags: string[];
  metadata: { provider: string; scopes: string[] };
  definition: {
    name: string;
    description: string;
    input_schema: Record<string, unknown>;
    annotations: ToolAnnotations;
  };
}

export interface ListToolsParams extends PageParams {
  provider?: string;
  /** Only tools of this connection's provider. */
  connector?: string;
  connected_account_id?: string;
  identifier?: string;
  tool_name?: string[];
  /** Free text over names and descriptions. */
  query?: string;
  /** Only `tool_names`, no definitions. */
  summary?: boolean;
}

export interface ToolList extends Page {
  tools: Tool[];
  tool_names: string[];
}

export interface ListScopedToolsParams extends PageParams {
  /** The user whose ACTIVE accounts decide which tools are listed. */
  identifier: string;
  providers?: string[];
  tool_names?: string[];
  connection_names?: string[];
}

export interface ScopedTool {
  connected_account_id: string;
  identifier: string;
  tool: Tool;
}

export interface ScopedToolList extends Page {
  tools: ScopedTool[];
}

interface ExecuteToolBase<P> {
  tool_name: string;
  params?: P;
  /** Groups the tool calls of one agent run in the logs. */
  agent_run_id?: string;
}

/** Runs a tool for one user: name the account by connection name + identifier, or by its id. */
export type ExecuteToolInput<P = Record<string, unknown>> = ExecuteToolBase<P> &
  ({ connector: string; identifier: string } | { connected_account_id: string });

export interface ExecuteToolResult<T = Record<string, unknown>> {
  data: T;
  execution_id: string;
}

// ------------------------------------------------------------------------ mcp

export interface McpConnectionToolMapping {
  connection_id: string;
  connection_name: string;
  provider: string;
  /** Empty means every tool of the connection's provider. */
  tools: string[];
}

export interface McpConfig {
  id: string;
  name: string;
  description: string;
  connection_tool_mappings: McpConnectionToolMapping[];
  /** The config's static MCP URL, used with session tokens. */
  mcp_server_url: string;
}

export interface McpMappingInput {
  connection_name: string;
  /** Empty or omitted means every tool of the connection. */
  tools?: string[];
}

export interface CreateMcpConfigInput {
  /** 1–100 characters of `[a-z0-9_-]`, unique. */
  name: string;
  description?: string;
  /** At most 25. */
  connection_tool_mappings: McpMappingInput[];
}

/** `connection_tool_mappings`, when given, replaces the mappings wholesale. */
export interface UpdateMcpConfigInput {
  description?: string;
  connection_tool_mappings?: McpMappingInput[];
}

export interface ListMcpConfigsParams extends PageParams {
  id?: string;
  name?: string;
  provider?: string;
  search?: string;
}

export interface McpConfigList extends Page {
  configs: McpConfig[];
}

export interface McpInstance {
  id: string;
  name: string;
  user_identifier: string;
  config: McpConfig;
  /** Absent until the instance is first used (an unset timestamp is omitted, as protobuf JSON does). */
  last_used_at?: string;
  updated_at: string;
  /**
   * This user's MCP URL. A capability: whoever has it acts as the user with the config's tools.
   * Only admin API clients get it; for a `read` client it is absent.
   */
  url?: string;
}

/** An instance as the calls only admin clients may make answer it: always with its URL. */
export type McpInstanceWithUrl = McpInstance & { url: string };

export interface EnsureMcpInstanceInput {
  config_name: string;
  user_identifier: string;
  name?: string;
}

export interface UpdateMcpInstanceInput {
  name?: string;
  config_name?: string;
}

export interface ListMcpInstancesParams extends PageParams {
  id?: string;
  name?: string;
  config_name?: string;
  user_identifier?: string;
  search?: string;
}

export interface McpInstanceList extends Page {
  instances: McpInstance[];
}

/** One connection of an instance or config, as seen for one user. */
export interface McpConnectionAuthState {
  connection_id: string;
  connection_name: string;
  provider: string;
  connected_account_id: string;
  /** Empty while the user has no account at the connection. */
  connected_account_status: ConnectedAccountStatus | '';
  /** Empty unless links were asked for. */
  authentication_link: string;
  /**
   * The scopes a consent through this config asks for: the connection's, and those the
   * config's tools need beyond them (requested incrementally, with the ones granted before).
   */
  required_scopes: string[];
  /** Scopes the config's tools need that this ACTIVE account has not granted. */
  missing_scopes: string[];
  /** ACTIVE, but short of `missing_scopes`: the user re-authorizes through `authentication_link`. */
  needs_reauthorization: boolean;
}

export interface McpAuthState {
  connections: McpConnectionAuthState[];
}

export interface McpSessionToken {
  /** A JWT to send as `Authorization: Bearer` to the config's `mcp_server_url`. */
  token: string;
  expires_at: string;
}

// ----------------------------------------------------------------------- logs

export type ToolCallStatus = 'SUCCESS' | 'FAILED';
export type ToolCallSource = 'API' | 'MCP' | 'GRPC';

/** One tool call as audited: who, what, how it ended, how long it took. Never payloads or tokens. */
export interface ToolCallLog {
  id: string;
  /** The `execution_id` the execute API returned (or a tool error carried). */
  execution_id: string;
  tool_name: string;
  provider: string | null;
  connection_id: string | null;
  connection_name: string | null;
  connected_account_id: string | null;
  identifier: string | null;
  status: ToolCallStatus;
  /** The error code of a failed call. */
  error_code: string | null;
  /** The failed call's error message, with links and secrets redacted. */
  error_message: string | null;
  /**
   * What the call was asked, summarized: keys and short values, long strings cut, fields named
   * like a body or a secret (body, raw, content, token, secret, …) left out; at most 1 KB.
   */
  argument_summary: Record<string, unknown> | null;
  duration_ms: number;
  source: ToolCallSource;
  /** 1, or n for the caller's (n-1)th retry of the same failed call (the Python SDK retries every failed gRPC call twice). */
  attempt: number;
  /** The MCP instance, for calls that came through MCP. */
  instance_id: string | null;
  created_at: string;
}

export interface ListToolCallLogsParams extends PageParams {
  tool_name?: string;
  /** Tools whose name starts with this (case-insensitive), e.g. `gmail_`. */
  tool_name_prefix?: string;
  /** Tools whose name contains this (case-insensitive), e.g. `label`. */
  tool_name_contains?: string;
  /** The one call with this execution id. */
  execution_id?: string;
  connection_name?: string;
  identifier?: string;
  connected_account_id?: string;
  status?: ToolCallStatus;
  source?: ToolCallSource;
  /** RFC 3339 or a Date: calls at or after this time. */
  start_time?: string | Date;
  /** RFC 3339 or a Date: calls before this time. */
  end_time?: string | Date;
}

export interface ToolCallLogList extends Page {
  tool_call_logs: ToolCallLog[];
}

// ---------------------------------------------------------------- API clients

/** What a management API client may do: `admin` everything, `read` only GET calls. */
export type ApiClientScope = 'admin' | 'read';

/** A management API client. Its secret is never returned after creation or rotation. */
export interface ApiClient {
  id: string;
  client_id: string;
  name: string;
  scope: ApiClientScope;
  created_at: string;
  /** When it was revoked; absent while it is not (unset timestamps are omitted, as protobuf JSON does). */
  revoked_at?: string;
}

/** A client with its secret: the answer of create and rotate_secret, the only time it is shown. */
export interface IssuedApiClient extends ApiClient {
  client_secret: string;
}

export interface ApiClientList {
  clients: ApiClient[];
}

export interface CreateApiClientInput {
  name: string;
  /** Default `admin`. */
  scope?: ApiClientScope;
}
