import type { Tool } from '@modelcontextprotocol/server';
import type { Catalog } from '../providers/index.js';
import { toolInputSchema } from '../providers/json-schema.js';
import type { ToolDefinition } from '../providers/types.js';
import type { TargetMapping } from './targets.js';

/** Distinct mapping sets kept; beyond this the cache starts over (it is only a cache). */
const MAX_CACHED_SURFACES = 2_000;
/**
 * Bytes of kept list text (see ToolListing.served); beyond this the cache starts over too. A
 * config of 25 connections lists about 100 KB per era, so this holds some 160 such configs in
 * both eras, while 2,000 of them would otherwise keep 400 MB.
 */
const MAX_SERVED_BYTES = 32 * 1024 * 1024;

/** The MCP protocol eras a list is served in: 2025 revisions and 2026-07-28 (the SDK's ProtocolEra). */
export type ListEra = 'legacy' | 'modern';

/** One distinct tool list, and the text it was served as, held together by the surface's cache. */
export class ToolListing {
  private readonly text: Partial<Record<ListEra, Buffer | false>> = {};

  constructor(
    readonly key: string,
    readonly tools: Tool[],
    private readonly owner: ToolSurface,
  ) {}

  /**
   * The exact JSON text of `tools` as the MCP endpoint served it in `era`; false when it must
   * always be serialized for real there; undefined when not yet known (mcp-endpoint/list-splice.ts).
   */
  served(era: ListEra): Buffer | false | undefined {
    return this.text[era];
  }

  /** Keeps what `served(era)` answers from now on, within the surface's byte budget. */
  keepServed(era: ListEra, text: Buffer | false): void {
    if (this.text[era] !== undefined) return;
    if (this.owner.admit(this, text ? text.byteLength : 0)) this.text[era] = text;
  }
}

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
 * per mapping, so it is computed once per distinct set and reused by every request, with the
 * text it was served as; both go when the cache starts over.
 */
export class ToolSurface {
  private readonly lists = new Map<string, ToolListing>();
  private readonly single = new WeakMap<ToolDefinition, Tool>();
  private servedBytes = 0;

  constructor(private readonly catalog: Catalog) {}

  private tool(definition: ToolDefinition): Tool {
    let tool = this.single.get(definition);
    if (!tool) {
      tool = toMcpTool(definition);
      this.single.set(definition, tool);
    }
    return tool;
  }

  private startOver(): void {
    this.lists.clear();
    this.servedBytes = 0;
  }

  /** The listing for a set of mappings: its tools, and the text they were served as. */
  listing(mappings: TargetMapping[]): ToolListing {
    const key = mappings.map((m) => `${m.provider}:${m.tools.join(',')}`).join('|');
    let listing = this.lists.get(key);
    if (!listing) {
      const tools: Tool[] = [];
      for (const mapping of mappings) {
        const provider = this.catalog.providers.get(mapping.provider);
        if (!provider) continue;
        const chosen = mapping.tools.length
          ? provider.tools.filter((t) => mapping.tools.includes(t.name))
          : provider.tools;
        for (const definition of chosen) tools.push(this.tool(definition));
      }
      if (this.lists.size >= MAX_CACHED_SURFACES) this.startOver();
      listing = new ToolListing(key, tools, this);
      this.lists.set(key, listing);
    }
    return listing;
  }

  /** The tools `tools/list` shows for a set of mappings. */
  list(mappings: TargetMapping[]): Tool[] {
    return this.listing(mappings).tools;
  }

  /**
   * Whether `listing` may keep `bytes` more of served text: only a listing the cache still
   * holds, and when the budget is spent the cache starts over and this one is not kept.
   */
  admit(listing: ToolListing, bytes: number): boolean {
    if (this.lists.get(listing.key) !== listing) return false;
    if (this.servedBytes + bytes > MAX_SERVED_BYTES) {
      this.startOver();
      return false;
    }
    this.servedBytes += bytes;
    return true;
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
