import type { AppServices } from '../app.js';
import { McpConfigs } from './configs.js';
import { McpInstances } from './instances.js';
import { SessionTokens } from './session-tokens.js';
import { McpTargets } from './targets.js';
import { ToolSurface } from './tool-surface.js';

/** The MCP parts, built once per app from the shared services. */
export interface McpServices {
  configs: McpConfigs;
  instances: McpInstances;
  targets: McpTargets;
  surface: ToolSurface;
  sessionTokens: SessionTokens;
}

export function createMcpServices(services: AppServices): McpServices {
  const configs = new McpConfigs(services);
  return {
    configs,
    instances: new McpInstances({ ...services, configs }),
    targets: new McpTargets(services),
    surface: new ToolSurface(services.catalog),
    sessionTokens: new SessionTokens(services),
  };
}
