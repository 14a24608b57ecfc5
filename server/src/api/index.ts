import { Hono } from 'hono';
import type { AppEnv, Services } from '../context.js';
import { registerClientRoutes } from './clients.js';
import { registerConnectedAccountRoutes } from './connected-accounts.js';
import { registerConnectionRoutes } from './connections.js';
import { requireManagementToken } from './management-auth.js';
import { registerMcpConfigRoutes } from './mcp-configs.js';
import { registerMcpInstanceRoutes } from './mcp-instances.js';
import { registerMcpOAuthRoutes } from './mcp-oauth.js';
import { registerToolRoutes } from './tools.js';

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

export { tokenEndpoint } from './management-auth.js';
export { proxyRoutes } from './proxy.js';
