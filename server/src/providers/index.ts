import { gmail } from './gmail/provider.js';
import { googleCalendar } from './googlecalendar/provider.js';
import type { ProviderDefinition, ToolDefinition } from './types.js';

/** The catalog: every provider Switchboard knows, listed by hand. */
export const providers: ProviderDefinition[] = [gmail, googleCalendar];

/** The provider of the catalog whose tools call `origin`, if any. */
export function providerServing(
  origin: string,
  list: ProviderDefinition[] = providers,
): ProviderDefinition | undefined {
  return list.find((provider) => provider.apiOrigins.includes(origin));
}

export interface Catalog {
  providers: ReadonlyMap<string, ProviderDefinition>;
  /** tool name → its provider and definition */
  tools: ReadonlyMap<string, { provider: ProviderDefinition; tool: ToolDefinition }>;
}

export function createCatalog(list: ProviderDefinition[] = providers): Catalog {
  const tools = new Map<string, { provider: ProviderDefinition; tool: ToolDefinition }>();
  for (const provider of list) {
    for (const tool of provider.tools) {
      if (tools.has(tool.name)) throw new Error(`duplicate tool name in catalog: ${tool.name}`);
      tools.set(tool.name, { provider, tool });
    }
  }
  return { providers: new Map(list.map((p) => [p.name, p])), tools };
}
