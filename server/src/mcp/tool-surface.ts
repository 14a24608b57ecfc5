import type { Tool } from '@modelcontextprotocol/server';
import type { Catalog } from '../providers/index.js';
import { toolInputSchema } from '../providers/json-schema.js';
import type { ToolDefinition } from '../providers/types.js';
import type { TargetMapping } from './targets.js';

/** Distinct mapping sets kept; beyond this the cache starts over (it is only a cache). */
const MAX_CACHED_SURFACES = 2_000;

function toMcpTool(tool: ToolDefinition): Tool {
  const { title, ...hints } = tool.annotations;
  return {
    name: tool.name,
    ...(title ? { title } : {}),
    description: tool.description,
    inputSchema: toolInputSchema(tool) as Tool['inputSchema'],
    annotations: { ...(title ? { title } : {}), ...hints },
  };
}

/**
 * What `tools/list` shows for a set of mappings. The list depends only on (provider, tools)
 * per mapping, so it is computed once per distinct set and reused by every request.
 */
export class ToolSurface {
  private readonly lists = new Map<string, Tool[]>();
  private readonly single = new WeakMap<ToolDefinition, Tool>();

  constructor(private readonly catalog: Catalog) {}

  private tool(definition: ToolDefinition): Tool {
    let tool = this.single.get(definition);
    if (!tool) {
      tool = toMcpTool(definition);
      this.single.set(definition, tool);
    }
    return tool;
  }

  list(mappings: TargetMapping[]): Tool[] {
    const key = mappings.map((m) => `${m.provider}:${m.tools.join(',')}`).join('|');
    let tools = this.lists.get(key);
    if (!tools) {
      tools = [];
      for (const mapping of mappings) {
        const provider = this.catalog.providers.get(mapping.provider);
        if (!provider) continue;
        const chosen = mapping.tools.length
          ? provider.tools.filter((t) => mapping.tools.includes(t.name))
          : provider.tools;
        for (const definition of chosen) tools.push(this.tool(definition));
      }
      if (this.lists.size >= MAX_CACHED_SURFACES) this.lists.clear();
      this.lists.set(key, tools);
    }
    return tools;
  }

  /** The mapping that exposes `toolName`, or undefined when the config does not expose it. */
  route(mappings: TargetMapping[], toolName: string): TargetMapping | undefined {
    for (const mapping of mappings) {
      if (mapping.tools.length) {
        if (mapping.tools.includes(toolName)) return mapping;
        continue;
      }
      const entry = this.catalog.tools.get(toolName);
      if (entry && entry.provider.name === mapping.provider) return mapping;
    }
    return undefined;
  }
}
