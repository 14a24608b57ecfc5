import type { Catalog } from '../providers/index.js';
import type { ToolDefinition } from '../providers/types.js';

/** What a config's mapping needs of its connection's OAuth grant. */
export interface ScopeNeeds {
  /** Everything a consent through this config asks for: the connection's scopes and `extra`. */
  required: string[];
  /** Scopes the mapped tools need that the connection does not request (incremental authorization). */
  extra: string[];
}

/**
 * The scope a tool asks for when nothing it accepts is there yet: the last, narrowest, of its
 * list (a tool's scopes run from full access down to the least that lets it through).
 */
function narrowest(tool: ToolDefinition): string | undefined {
  return tool.scopes[tool.scopes.length - 1];
}

/** The tools a mapping exposes: the named ones, or every tool of the provider. */
export function mappedTools(catalog: Catalog, provider: string, tools: string[]): ToolDefinition[] {
  if (!tools.length) return catalog.providers.get(provider)?.tools ?? [];
  return tools.flatMap((name) => {
    const entry = catalog.tools.get(name);
    return entry ? [entry.tool] : [];
  });
}

/** For each tool that none of `scopes` lets run, the narrowest scope that would. */
export function uncoveredScopes(tools: ToolDefinition[], scopes: string[]): string[] {
  const have = new Set(scopes);
  const out = new Set<string>();
  for (const tool of tools) {
    if (!tool.scopes.length || tool.scopes.some((scope) => have.has(scope))) continue;
    const scope = narrowest(tool);
    if (scope) out.add(scope);
  }
  return [...out];
}

/**
 * The scopes a mapping needs: its connection's (or the provider's defaults when it lists
 * none) and, beyond them, one scope for each mapped tool they do not cover.
 */
export function scopeNeeds(
  catalog: Catalog,
  mapping: { provider: string; tools: string[] },
  connectionScopes: string[],
): ScopeNeeds {
  const base = connectionScopes.length
    ? connectionScopes
    : (catalog.providers.get(mapping.provider)?.defaultScopes ?? []);
  const extra = uncoveredScopes(mappedTools(catalog, mapping.provider, mapping.tools), base);
  return { required: [...new Set([...base, ...extra])], extra };
}

/**
 * What an account granted falls short of for a mapping's tools; empty when the provider did not
 * say what it granted (then the first call finds out).
 */
export function missingScopes(
  catalog: Catalog,
  mapping: { provider: string; tools: string[] },
  grantedScopes: string[],
): string[] {
  if (!grantedScopes.length) return [];
  return uncoveredScopes(mappedTools(catalog, mapping.provider, mapping.tools), grantedScopes);
}

/**
 * One connection as several configs map it (a user's instances): the scopes a consent should
 * ask for beyond the connection's, and those `granted` lacks (empty when not known).
 */
export function connectionScopeNeeds(
  catalog: Catalog,
  mappings: { provider: string; tools: string[] }[],
  connectionScopes: string[],
  grantedScopes: string[] = [],
): { extra: string[]; missing: string[] } {
  const extra = new Set<string>();
  const missing = new Set<string>();
  for (const mapping of mappings) {
    for (const scope of scopeNeeds(catalog, mapping, connectionScopes).extra) extra.add(scope);
    for (const scope of missingScopes(catalog, mapping, grantedScopes)) missing.add(scope);
  }
  return { extra: [...extra], missing: [...missing] };
}
