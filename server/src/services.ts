import { AccountEvents } from './accounts/account-events.js';
import { ConnectFlow } from './accounts/connect-flow.js';
import { ConnectedAccounts } from './accounts/connected-accounts.js';
import { ApiClients } from './auth/api-clients.js';
import { ChangeFeed } from './cache/change-feed.js';
import { Connections } from './connections/connections.js';
import { TokenVault } from './connections/token-vault.js';
import type { AppDeps, Services } from './context.js';
import { UsageMarks } from './db/usage-marks.js';
import { ToolCallLog } from './execution/call-log.js';
import { ToolExecutor } from './execution/executor.js';
import { ProviderProxy } from './execution/proxy.js';
import { McpConfigs } from './mcp/configs.js';
import { McpInstances } from './mcp/instances.js';
import { SessionTokens } from './mcp/session-tokens.js';
import { McpTargets } from './mcp/targets.js';
import { ToolSurface } from './mcp/tool-surface.js';
import { McpAuthorizationServer } from './mcp-auth/authorization-server.js';
import { MAX_METADATA_DOCUMENT_BYTES, McpOAuthClients } from './mcp-auth/clients.js';
import { McpConfigAccess } from './mcp-auth/config-access.js';
import { SafeDocumentFetcher } from './mcp-auth/document-fetcher.js';
import { OidcUpstream } from './mcp-auth/oidc-upstream.js';
import { OAuthClient } from './oauth/client.js';
import { Metrics } from './observability/metrics.js';
import { RateLimiter } from './rate-limits/rate-limiter.js';

/**
 * The composition root: every domain service, built exactly once from the injected
 * dependencies. Edges receive the result and never construct a service themselves, so
 * there is one cache of each kind, registered once on the change feed.
 */
export function createServices(deps: AppDeps): Services {
  // The one process-wide cache coordinator: the hot path of a tool call (instance URL →
  // config → mappings, account → connection, decrypted token) is served from caches that
  // it empties when any replica writes what they hold (change_versions, polled at most
  // every 250 ms); token grants are also checked against the row's token_version.
  const metrics = deps.metrics ?? new Metrics();
  const changes = new ChangeFeed(deps);
  const usage = new UsageMarks(deps);
  const oauth = new OAuthClient(deps);
  const connections = new Connections({ ...deps, changes });
  const accountEvents = new AccountEvents(deps);
  const vault = new TokenVault({ ...deps, oauth, changes, connections, events: accountEvents, metrics });
  const accounts = new ConnectedAccounts({ ...deps, oauth, vault, changes, usage, connections, events: accountEvents });
  const connectFlow = new ConnectFlow({ ...deps, oauth, connections, accounts, events: accountEvents });
  const callLog = new ToolCallLog(deps);
  const executor = new ToolExecutor({
    ...deps,
    providerTransport: deps.providerTransport ?? deps.fetch,
    connections,
    accounts,
    connectFlow,
    vault,
    callLog,
    metrics,
  });
  const mcpConfigs = new McpConfigs({ ...deps, changes });
  const mcpConfigAccess = new McpConfigAccess({ ...deps, changes });
  const mcpOAuthClients = new McpOAuthClients({
    ...deps,
    documents: new SafeDocumentFetcher({
      timeoutMs: deps.config.mcpOAuth.metadataTimeoutMs,
      maxBytes: MAX_METADATA_DOCUMENT_BYTES,
      allowLoopback: deps.config.mcpOAuth.loopbackMetadataForTests,
    }),
  });
  const mcpTargets = new McpTargets({ ...deps, changes, usage, accounts });
  metrics.watchCaches(() => changes.allCaches);
  metrics.watchLookup('mcp_instances', mcpTargets.ownRows);
  metrics.watchLookup('connected_accounts', accounts.byPair);
  metrics.watchLookup('connected_accounts_by_id', accounts.byId);
  metrics.watchQueue('tool_call_log', () => callLog.pendingCount);
  metrics.watchQueue('usage_marks', () => usage.pendingCount);
  metrics.watchAccounts(() => accounts.countByStatus());
  return {
    ...deps,
    metrics,
    changes,
    apiClients: new ApiClients({ ...deps, changes }),
    oauth,
    connections,
    vault,
    accounts,
    accountEvents,
    connectFlow,
    executor,
    proxy: new ProviderProxy({
      ...deps,
      providerTransport: deps.providerTransport ?? deps.fetch,
      connections,
      accounts,
      vault,
      callLog,
      metrics,
    }),
    callLog,
    usage,
    mcpConfigs,
    mcpInstances: new McpInstances({ ...deps, configs: mcpConfigs, changes, usage }),
    mcpTargets,
    toolSurface: new ToolSurface(deps.catalog),
    sessionTokens: new SessionTokens({ ...deps, changes }),
    mcpConfigAccess,
    mcpOAuthClients,
    mcpAuthorizationServer: new McpAuthorizationServer({
      ...deps,
      changes,
      clients: mcpOAuthClients,
      access: mcpConfigAccess,
      configs: mcpConfigs,
      connections,
      connectFlow,
      usage,
      upstream: new OidcUpstream(deps),
    }),
    rateLimiter: new RateLimiter({ ...deps, metrics }),
  };
}
