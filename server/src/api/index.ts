import { Hono } from 'hono';
import type { AppEnv, Services } from '../context.js';
import type { RouteDoc } from '../http/route-docs.js';
import { clientRouteDocs, registerClientRoutes } from './clients.js';
import { connectedAccountRouteDocs, registerConnectedAccountRoutes } from './connected-accounts.js';
import { connectionRouteDocs, registerConnectionRoutes } from './connections.js';
import { requireManagementToken } from './management-auth.js';
import { mcpConfigRouteDocs, registerMcpConfigRoutes } from './mcp-configs.js';
import { mcpInstanceRouteDocs, registerMcpInstanceRoutes } from './mcp-instances.js';
import { mcpOAuthRouteDocs, registerMcpOAuthRoutes } from './mcp-oauth.js';
import { registerToolRoutes, toolRouteDocs } from './tools.js';

/** The management REST API, mounted at /api/v1: every route needs a management access token. */
export function managementApi(services: Services): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.use('*', requireManagementToken(services));
  registerConnectionRoutes(api, services);
  registerConnectedAccountRoutes(api, services);
  registerToolRoutes(api, services);
  registerMcpConfigRoutes(api, services);
  registerMcpInstanceRoutes(api, services);
  registerMcpOAuthRoutes(api, services);
  registerClientRoutes(api, services);
  return api;
}

/** The reference's entries for /api/v1, relative to it. */
export const managementRouteDocs: RouteDoc[] = [
  ...connectionRouteDocs,
  ...connectedAccountRouteDocs,
  ...toolRouteDocs,
  ...mcpConfigRouteDocs,
  ...mcpInstanceRouteDocs,
  ...mcpOAuthRouteDocs,
  ...clientRouteDocs,
];

export { tokenEndpoint, tokenEndpointDocs } from './management-auth.js';
export { proxyRoutes } from './proxy.js';
