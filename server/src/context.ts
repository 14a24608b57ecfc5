import type { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { AccountEvents } from './accounts/account-events.js';
import type { ConnectFlow } from './accounts/connect-flow.js';
import type { ConnectedAccounts } from './accounts/connected-accounts.js';
import type { ApiClients } from './auth/api-clients.js';
import type { SigningKeys } from './auth/signing-keys.js';
import type { ChangeFeed } from './cache/change-feed.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Connections } from './connections/connections.js';
import type { TokenVault } from './connections/token-vault.js';
import type { Encryptor } from './crypto/envelope.js';
import type { Engine } from './db/database.js';
import type { Database } from './db/schema.js';
import type { UsageMarks } from './db/usage-marks.js';
import type { ToolCallLog } from './execution/call-log.js';
import type { ToolExecutor } from './execution/executor.js';
import type { ProviderTransport } from './execution/provider-transport.js';
import type { ProviderProxy } from './execution/proxy.js';
import type { Logger } from './logger.js';
import type { McpConfigs } from './mcp/configs.js';
import type { McpInstances } from './mcp/instances.js';
import type { SessionTokens } from './mcp/session-tokens.js';
import type { McpTargets } from './mcp/targets.js';
import type { ToolSurface } from './mcp/tool-surface.js';
import type { McpAuthorizationServer } from './mcp-auth/authorization-server.js';
import type { McpOAuthClients } from './mcp-auth/clients.js';
import type { McpConfigAccess } from './mcp-auth/config-access.js';
import type { OAuthClient } from './oauth/client.js';
import type { Metrics } from './observability/metrics.js';
import type { Catalog } from './providers/index.js';
import type { RateLimiter } from './rate-limits/rate-limiter.js';

/**
 * The types every edge is written against: what the app needs from outside, the services
 * the composition root (services.ts) builds from it, and the Hono env of a request. This
 * module imports types only, and nothing from an edge, so edges can depend on it freely.
 */

/** Everything the app needs from outside. Tests pass their own clock, fetch and databases. */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  fetch: typeof fetch;
  /** Provider API calls; `fetch` when absent (tests that inject faults pass only a fetch). */
  providerTransport?: ProviderTransport;
  logger: Logger;
  catalog: Catalog;
  encryptor: Encryptor;
  signingKeys: SigningKeys;
  /** The sandbox app, mounted at /sandbox when the config says so. */
  sandbox?: Hono;
  /** The process's metrics (main.ts adds process metrics and the pool); a fresh registry when absent. */
  metrics?: Metrics;
}

/** Every domain service, each built once per process by `createServices`. */
export interface Services extends AppDeps {
  /** Prometheus metrics, served at /metrics (see observability/metrics.ts). */
  metrics: Metrics;
  /** Invalidation of the process's caches, across replicas (see cache/change-feed.ts). */
  changes: ChangeFeed;
  /** Management API clients, and the live check of every access token. */
  apiClients: ApiClients;
  oauth: OAuthClient;
  connections: Connections;
  vault: TokenVault;
  accounts: ConnectedAccounts;
  /** The append-only lifecycle history of accounts (account_events). */
  accountEvents: AccountEvents;
  /** Authentication links, and the OAuth consent that activates an account through one. */
  connectFlow: ConnectFlow;
  executor: ToolExecutor;
  /** Calls to a provider's own API for a connected account (/proxy, the SDKs' `actions.request`). */
  proxy: ProviderProxy;
  /** The batched audit log of tool calls; flush before reading tool_call_logs, close at shutdown. */
  callLog: ToolCallLog;
  /** Batched last_used_at writes; flush before reading last_used_at and at shutdown. */
  usage: UsageMarks;
  mcpConfigs: McpConfigs;
  mcpInstances: McpInstances;
  mcpTargets: McpTargets;
  toolSurface: ToolSurface;
  sessionTokens: SessionTokens;
  /** Per config: which ways in (OAuth, instance URLs, session tokens) are open, and the login page. */
  mcpConfigAccess: McpConfigAccess;
  /** MCP clients' OAuth registrations (dynamic, or by metadata document). */
  mcpOAuthClients: McpOAuthClients;
  /** Switchboard as the OAuth authorization server of its config URLs. */
  mcpAuthorizationServer: McpAuthorizationServer;
  /** Request rate limits of the public entry points (per process, or shared through Redis); close at shutdown. */
  rateLimiter: RateLimiter;
}

/** Per-request values every edge may set or read. */
export type AppEnv = { Variables: { requestId: string; clientId?: string; clientScope?: 'admin' | 'read' } };
