import { type Context, Hono } from 'hono';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { registerConnectRoutes } from './api/connect.js';
import { registerConnectedAccountRoutes } from './api/connected-accounts.js';
import { registerConnectionRoutes } from './api/connections.js';
import { registerApiAuth, registerTokenEndpoint } from './api/management-auth.js';
import { registerToolRoutes } from './api/tools.js';
import type { SigningKeys } from './auth/signing-keys.js';
import { ChangeFeed } from './cache/change-feed.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { ConnectedAccounts } from './connections/connected-accounts.js';
import { TokenVault } from './connections/token-vault.js';
import type { Encryptor } from './crypto/envelope.js';
import { newId } from './crypto/random.js';
import { registerDashboard } from './dashboard/routes.js';
import type { Engine } from './db/database.js';
import type { Database } from './db/schema.js';
import { UsageMarks } from './db/usage-marks.js';
import { AppError } from './errors.js';
import { type Logger, redactUrl } from './logger.js';
import { registerMcpRoutes } from './mcp/routes.js';
import { OAuthClient } from './oauth/client.js';
import type { Catalog } from './providers/index.js';
import { ToolCallLog } from './tools/call-log.js';
import { ToolExecutor } from './tools/executor.js';
import type { ProviderHttp } from './tools/provider-http.js';

/** Everything the app needs from outside. Tests pass their own clock, fetch and databases. */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  fetch: typeof fetch;
  /** Provider API calls; `fetch` when absent (tests that inject faults pass only a fetch). */
  providerHttp?: ProviderHttp;
  logger: Logger;
  catalog: Catalog;
  encryptor: Encryptor;
  signingKeys: SigningKeys;
  /** The sandbox app, mounted at /sandbox when the config says so. */
  sandbox?: Hono;
}

/** Shared per-process services built once from the deps. */
export interface AppServices extends AppDeps {
  /** Invalidation of the process's caches, across replicas (see cache/change-feed.ts). */
  changes: ChangeFeed;
  oauth: OAuthClient;
  vault: TokenVault;
  accounts: ConnectedAccounts;
  executor: ToolExecutor;
  /** The batched audit log of tool calls; flush before reading tool_call_logs, close at shutdown. */
  callLog: ToolCallLog;
  /** Batched last_used_at writes; flush before reading last_used_at and at shutdown. */
  usage: UsageMarks;
}

export type AppEnv = { Variables: { requestId: string; clientId?: string } };

/**
 * Sets a header on the finished response in place. Hono's `c.header()` after `next()`
 * rebuilds the response around its body stream, which turns @hono/node-server's buffered
 * fast path (a string body written in one go) into a stream read; only a response whose
 * headers are immutable (one that came from fetch) needs that rebuild.
 */
function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

export function createServices(deps: AppDeps): AppServices {
  // The one process-wide cache coordinator: the hot path of a tool call (instance URL →
  // config → mappings, account → connection, decrypted token) is served from caches that
  // it empties when any replica writes what they hold (change_versions, polled at most
  // every 250 ms); token grants are also checked against the row's token_version.
  const changes = new ChangeFeed(deps);
  const usage = new UsageMarks(deps);
  const oauth = new OAuthClient(deps);
  const vault = new TokenVault({ ...deps, oauth, changes });
  const accounts = new ConnectedAccounts({ ...deps, oauth, vault, changes, usage });
  const callLog = new ToolCallLog(deps);
  const executor = new ToolExecutor({
    ...deps,
    providerHttp: deps.providerHttp ?? deps.fetch,
    accounts,
    vault,
    callLog,
  });
  return { ...deps, changes, oauth, vault, accounts, executor, callLog, usage };
}

export function createApp(deps: AppDeps): { app: Hono<AppEnv>; services: AppServices } {
  const services = createServices(deps);
  const { logger, config } = deps;
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const requestId = newId('evt').slice(4);
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    setResponseHeader(c, 'x-request-id', requestId);
    const status = c.res.status;
    if (status >= 500 || logger.isLevelEnabled('debug')) {
      logger[status >= 500 ? 'warn' : 'debug'](
        {
          requestId,
          method: c.req.method,
          path: redactUrl(c.req.url),
          status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (error instanceof AppError) {
      const headers: Record<string, string> =
        error.code === 'unauthenticated' ? { 'www-authenticate': 'Bearer realm="switchboard"' } : {};
      return c.json({ ...error.toJSON(), request_id: requestId }, error.status as 400, headers);
    }
    logger.error({ requestId, err: error }, 'unhandled error');
    return c.json({ error: { code: 'internal', message: 'internal error' }, request_id: requestId }, 500);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await sql`select 1`.execute(deps.db);
      return c.json({ status: 'ready', database: deps.engine });
    } catch {
      return c.json({ status: 'unavailable', database: deps.engine }, 503);
    }
  });

  registerTokenEndpoint(app, services);
  registerApiAuth(app, services);
  registerConnectionRoutes(app, services);
  registerConnectedAccountRoutes(app, services);
  registerConnectRoutes(app, services);
  registerToolRoutes(app, services);
  registerMcpRoutes(app, services);
  registerDashboard(app, services);

  if (deps.sandbox && config.sandbox.mounted) app.route('/sandbox', deps.sandbox);

  app.notFound((c) =>
    c.json(
      { error: { code: 'not_found', message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } },
      404,
    ),
  );
  return { app, services };
}
