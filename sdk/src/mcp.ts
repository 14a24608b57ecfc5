import type { Transport } from './transport.js';
import type {
  AuthorizationLinkOptions,
  CreateMcpConfigInput,
  EnsureMcpInstanceInput,
  ListMcpConfigsParams,
  ListMcpInstancesParams,
  McpAuthState,
  McpConfig,
  McpConfigList,
  McpConnectionAuthState,
  McpInstance,
  McpInstanceList,
  McpInstanceWithUrl,
  McpSessionToken,
  UpdateMcpConfigInput,
  UpdateMcpInstanceInput,
} from './types.js';

const configPath = (id: string) => `/api/v1/mcp/configs/${encodeURIComponent(id)}`;
const instancePath = (id: string) => `/api/v1/mcp/instances/${encodeURIComponent(id)}`;

/**
 * MCP configs (which connections and tools an MCP server exposes) and instances (one per
 * config and user, each with the user's own MCP URL).
 */
export class Mcp {
  constructor(private readonly http: Transport) {}

  /** Creates a config mapping connections to tools. @throws SwitchboardError `already_exists`, `validation_failed`. */
  async createConfig(input: CreateMcpConfigInput): Promise<McpConfig> {
    const answer = await this.http.request<{ config: McpConfig }>({
      method: 'POST',
      path: '/api/v1/mcp/configs',
      body: input,
    });
    return answer.config;
  }

  /** Lists configs, filtered by id, exact name, provider or a name prefix (`search`). */
  listConfigs(params: ListMcpConfigsParams = {}): Promise<McpConfigList> {
    return this.http.request<McpConfigList>({
      method: 'GET',
      path: '/api/v1/mcp/configs',
      query: {
        'filter.id': params.id,
        'filter.name': params.name,
        'filter.provider': params.provider,
        search: params.search,
        page_size: params.page_size,
        page_token: params.page_token,
      },
      idempotent: true,
    });
  }

  /** Gets one config by id. @throws SwitchboardError `not_found`. */
  async getConfig(id: string): Promise<McpConfig> {
    const answer = await this.http.request<{ config: McpConfig }>({
      method: 'GET',
      path: configPath(id),
      idempotent: true,
    });
    return answer.config;
  }

  /** Updates the description and/or replaces the mappings wholesale. */
  async updateConfig(id: string, input: UpdateMcpConfigInput): Promise<McpConfig> {
    const answer = await this.http.request<{ config: McpConfig }>({
      method: 'PUT',
      path: configPath(id),
      body: input,
      idempotent: true,
    });
    return answer.config;
  }

  /** Deletes a config and every instance of it. */
  async deleteConfig(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: configPath(id), idempotent: true });
  }

  /**
   * Returns the instance of (config, user, name), creating it on first call: the same
   * arguments always give the same instance and URL.
   */
  async ensureInstance(input: EnsureMcpInstanceInput): Promise<McpInstanceWithUrl> {
    const answer = await this.http.request<{ instance: McpInstanceWithUrl }>({
      method: 'POST',
      path: '/api/v1/mcp/instances',
      body: input,
      idempotent: true,
    });
    return answer.instance;
  }

  /** Gets one instance by id (its `url` only for an admin client). @throws SwitchboardError `not_found`. */
  async getInstance(id: string): Promise<McpInstance> {
    const answer = await this.http.request<{ instance: McpInstance }>({
      method: 'GET',
      path: instancePath(id),
      idempotent: true,
    });
    return answer.instance;
  }

  /**
   * Lists instances, filtered by id, name, config name or user identifier (page_size at most 30);
   * their `url`s only for an admin client.
   */
  listInstances(params: ListMcpInstancesParams = {}): Promise<McpInstanceList> {
    return this.http.request<McpInstanceList>({
      method: 'GET',
      path: '/api/v1/mcp/instances',
      query: {
        'filter.id': params.id,
        'filter.name': params.name,
        'filter.config_name': params.config_name,
        'filter.user_identifier': params.user_identifier,
        search: params.search,
        page_size: params.page_size,
        page_token: params.page_token,
      },
      idempotent: true,
    });
  }

  /** Renames an instance or moves it to another config. */
  async updateInstance(id: string, input: UpdateMcpInstanceInput): Promise<McpInstanceWithUrl> {
    const answer = await this.http.request<{ instance: McpInstanceWithUrl }>({
      method: 'PATCH',
      path: instancePath(id),
      body: input,
      idempotent: true,
    });
    return answer.instance;
  }

  /** Deletes an instance; its URL stops working at once. */
  async deleteInstance(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: instancePath(id), idempotent: true });
  }

  /**
   * For each connection of the instance's config: the user's account status and, with
   * `include_auth_links`, a fresh link to (re)connect it. With `user_verify_url` (and `state`)
   * those links end at your app's verify route, as `connectedAccounts.getAuthorizationLink`'s do.
   */
  getInstanceAuthState(
    id: string,
    options: { include_auth_links?: boolean } & AuthorizationLinkOptions = {},
  ): Promise<McpAuthState> {
    const { include_auth_links = false, ...verification } = options;
    return this.http.request<McpAuthState>({
      method: 'POST',
      path: `${instancePath(id)}:get_auth_state`,
      body: { include_auth_links, ...verification },
      idempotent: true,
    });
  }

  /** Gives the instance a new URL secret; the old URL stops working. Returns the instance with its new `url`. */
  async rotateInstanceUrl(id: string): Promise<McpInstanceWithUrl> {
    const answer = await this.http.request<{ instance: McpInstanceWithUrl }>({
      method: 'POST',
      path: `${instancePath(id)}:rotate_url`,
    });
    return answer.instance;
  }

  /**
   * Mints a session token (a JWT for the config's `mcp_server_url`) for one user.
   * `expiry` is a duration like `"3600s"` (60 s to 24 h; default 1 h).
   * @throws SwitchboardError `failed_precondition` unless every mapped connection has an ACTIVE account for the user.
   */
  createSessionToken(configId: string, input: { identifier: string; expiry?: string }): Promise<McpSessionToken> {
    return this.http.request<McpSessionToken>({ method: 'POST', path: `${configPath(configId)}/tokens`, body: input });
  }

  /**
   * Revokes every session token of `identifier` at this config issued until now; tokens
   * minted afterwards work.
   */
  async revokeSessionTokens(configId: string, input: { identifier: string }): Promise<void> {
    await this.http.request({
      method: 'POST',
      path: `${configPath(configId)}/tokens:revoke`,
      body: input,
      idempotent: true,
    });
  }

  /**
   * The user's account state on each connection of a config; with `include_auth_link`,
   * creates missing accounts and returns fresh links.
   */
  async listConnectedAccounts(
    configId: string,
    input: { identifier: string; include_auth_link?: boolean },
  ): Promise<McpConnectionAuthState[]> {
    const answer = await this.http.request<{ connected_accounts: McpConnectionAuthState[] }>({
      method: 'POST',
      path: `${configPath(configId)}/connected_accounts`,
      body: input,
      idempotent: true,
    });
    return answer.connected_accounts;
  }
}
