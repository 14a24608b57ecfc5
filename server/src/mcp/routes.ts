import type { Hono } from 'hono';
import { registerMcpConfigRoutes } from '../api/mcp-configs.js';
import { registerMcpInstanceRoutes } from '../api/mcp-instances.js';
import type { AppEnv, AppServices } from '../app.js';
import { registerMcpEndpoint } from './endpoint.js';
import { createMcpServices, type McpServices } from './services.js';

/**
 * Everything MCP: the management routes under /api/v1/mcp (behind management auth) and the
 * MCP endpoint itself under /mcp (authorised by its URL secret or session token instead).
 */
export function registerMcpRoutes(app: Hono<AppEnv>, services: AppServices): McpServices {
  const mcp = createMcpServices(services);
  registerMcpConfigRoutes(app, services, mcp);
  registerMcpInstanceRoutes(app, services, mcp);
  registerMcpEndpoint(app, services, mcp);
  return mcp;
}
