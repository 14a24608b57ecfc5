import type { ScopedTool, Tool } from '@switchboard/sdk';
import type { ConnectedAccounts } from '../accounts/connected-accounts.js';
import type { Connections } from '../connections/connections.js';
import { AppError } from '../errors.js';
import type { Catalog } from '../providers/index.js';
import { toolInputSchema } from '../providers/json-schema.js';
import type { ProviderDefinition, ToolDefinition } from '../providers/types.js';

/** A tool in the reference's wire shape (toolsTool), with its JSON Schema; every edge answers with this. */
export function toolToApi(provider: ProviderDefinition, tool: ToolDefinition): Tool {
  return {
    id: tool.name,
    provider: provider.name.toUpperCase(),
    is_default: true,
    tags: [provider.name],
    metadata: { provider: provider.name, scopes: tool.scopes },
    definition: {
      name: tool.name,
      description: tool.description,
      input_schema: toolInputSchema(tool),
      annotations: tool.annotations,
    },
  };
}

interface Deps {
  catalog: Catalog;
  accounts: ConnectedAccounts;
  connections: Connections;
}

export interface ToolFilter {
  /** Provider names, any case. */
  provider?: string;
  toolNames?: string[];
  query?: string;
  connector?: string;
  connectedAccountId?: string;
}

interface Window {
  limit: number;
  offset: number;
}

/** The catalog's tools (ListTools, GET /tools), narrowed by provider, connection, account, names or text. */
export async function listTools(deps: Deps, filter: ToolFilter, page: Window) {
  let providerNames: string[] | undefined = filter.provider ? [filter.provider.toLowerCase()] : undefined;
  if (filter.connector) providerNames = [(await deps.connections.getByName(filter.connector)).provider];
  if (filter.connectedAccountId) {
    providerNames = [(await deps.accounts.get({ id: filter.connectedAccountId })).connection.provider];
  }
  const names = filter.toolNames;
  const text = filter.query?.toLowerCase();
  const all = [...deps.catalog.tools.values()].filter(
    ({ provider, tool }) =>
      (!providerNames || providerNames.includes(provider.name)) &&
      (!names?.length || names.includes(tool.name)) &&
      (!text || tool.name.includes(text) || tool.description.toLowerCase().includes(text)),
  );
  const window = all.slice(page.offset, page.offset + page.limit);
  return {
    tools: window.map(({ provider, tool }) => toolToApi(provider, tool)),
    toolNames: window.map(({ tool }) => tool.name),
    total: all.length,
  };
}

export interface ScopedToolFilter {
  providers?: string[];
  toolNames?: string[];
  connectionNames?: string[];
}

/** The tools an identifier can run now: those of its ACTIVE accounts (ListScopedTools, GET /tools/scoped). */
export async function listScopedTools(deps: Deps, identifier: string, filter: ScopedToolFilter, page: Window) {
  const { rows } = await deps.accounts.list({
    identifier,
    status: 'ACTIVE',
    connectionNames: filter.connectionNames,
    limit: 1000,
    offset: 0,
  });
  const providers = filter.providers?.length ? filter.providers.map((p) => p.toLowerCase()) : undefined;
  const scoped: ScopedTool[] = rows.flatMap((row) => {
    const provider = deps.catalog.providers.get(row.c_provider);
    if (!provider || (providers && !providers.includes(provider.name))) return [];
    return provider.tools
      .filter((tool) => !filter.toolNames?.length || filter.toolNames.includes(tool.name))
      .map((tool) => ({ connected_account_id: row.id, identifier: row.identifier, tool: toolToApi(provider, tool) }));
  });
  return { tools: scoped.slice(page.offset, page.offset + page.limit), total: scoped.length };
}

/**
 * The candidate tools for an identifier (ListAvailableTools, GET /tools/available): every tool
 * of the providers it has an account at, whatever the account's status, each tool once.
 * An identifier with no account is unknown.
 */
export async function listAvailableTools(deps: Deps, identifier: string, page: Window) {
  const { rows } = await deps.accounts.list({ identifier, limit: 1000, offset: 0 });
  if (!rows.length) throw new AppError('not_found', `no connected account has the identifier ${identifier}`);
  const providerNames = new Set(rows.map((row) => row.c_provider));
  const all = [...deps.catalog.tools.values()].filter(({ provider }) => providerNames.has(provider.name));
  return {
    tools: all.slice(page.offset, page.offset + page.limit).map(({ provider, tool }) => toolToApi(provider, tool)),
    total: all.length,
  };
}
