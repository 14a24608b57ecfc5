import type { McpConfigList } from '@switchboard/sdk';
import type { Hono } from 'hono';
import { z } from 'zod';
import { ACCOUNT_STATUSES } from '../accounts/connected-accounts.js';
import type { AppEnv, Services } from '../context.js';
import { decodePageToken, pageSize, pageTokens, readJson, readQuery } from '../http/request.js';
import { emptyAnswer, named, pageFields, type RouteDoc } from '../http/route-docs.js';
import { authState } from '../mcp/auth-state.js';
import { CONFIG_NAME_PATTERN, configToApi, MAX_MAPPINGS, type MappingInput } from '../mcp/configs.js';
import { parseExpiry } from '../mcp/session-tokens.js';

const configName = z.string().regex(CONFIG_NAME_PATTERN, 'use 1–100 lowercase letters, digits, "_" or "-"');

// Read-only fields (connection_id, provider) a caller echoes back from a GET are ignored.
const mapping = z.object({
  connection_name: z.string().min(1).max(100),
  tools: z.array(z.string().min(1).max(200)).max(500).optional(),
});
const mappings = z.array(mapping).max(MAX_MAPPINGS, `at most ${MAX_MAPPINGS} mappings are allowed`);

const createBody = z.strictObject({
  name: configName,
  description: z.string().max(2000).optional(),
  connection_tool_mappings: mappings.optional(),
});

const updateBody = z.strictObject({
  description: z.string().max(2000).optional(),
  connection_tool_mappings: mappings.optional(),
});

const listQuery = z.strictObject({
  'filter.id': z.string().optional(),
  'filter.name': z.string().optional(),
  'filter.provider': z.string().optional(),
  'filter.mcp_server_url': z.string().optional(),
  search: z.string().max(100).optional(),
  page_size: pageSize(30, 30),
  page_token: z.string().optional(),
});

const identifier = z.string().min(1).max(255);

const tokenBody = z.strictObject({ identifier, expiry: z.string().max(32).optional() });

const revokeBody = z.strictObject({ identifier });

const readinessBody = z.strictObject({ identifier, include_auth_link: z.boolean().optional() });

/** A config as configToApi shows it. */
export const mcpConfigSchema = named(
  'McpConfig',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    connection_tool_mappings: z.array(
      z.strictObject({
        connection_id: z.string(),
        connection_name: z.string(),
        provider: z.string(),
        tools: z.array(z.string()),
      }),
    ),
    mcp_server_url: z.url(),
  }),
);
const oneAnswer = z.strictObject({ config: mcpConfigSchema });
const listAnswer = named('McpConfigList', z.strictObject({ configs: z.array(mcpConfigSchema), ...pageFields }));
const sessionTokenAnswer = named(
  'McpSessionToken',
  z.strictObject({ token: z.string(), expires_at: z.iso.datetime() }),
);

/** One connection of an instance or config as seen for one user (mcp/auth-state.ts). */
export const connectionAuthStateSchema = named(
  'McpConnectionAuthState',
  z.strictObject({
    connection_id: z.string(),
    connection_name: z.string(),
    provider: z.string(),
    /** Empty while the user has no account at the connection. */
    connected_account_id: z.string(),
    connected_account_status: z.union([z.enum(ACCOUNT_STATUSES), z.literal('')]),
    /** Empty unless links were asked for. */
    authentication_link: z.union([z.url(), z.literal('')]),
    required_scopes: z.array(z.string()),
    missing_scopes: z.array(z.string()),
    needs_reauthorization: z.boolean(),
  }),
);
const readinessAnswer = z.strictObject({ connected_accounts: z.array(connectionAuthStateSchema) });

const TAG = 'MCP configs';
const ID = { id: 'the MCP config id' };

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const mcpConfigRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    route: '/mcp/configs',
    tag: TAG,
    auth: 'management',
    summary: 'Create an MCP config (which tools of which connections a server offers)',
    body: createBody,
    response: { status: 201, description: '{ config }, with its server URL', schema: oneAnswer },
    errors: ['already_exists', 'not_found'],
  },
  {
    method: 'get',
    route: '/mcp/configs',
    tag: TAG,
    auth: 'management',
    summary: 'List MCP configs',
    query: listQuery,
    response: {
      status: 200,
      description: '{ configs, next_page_token, prev_page_token, total_size }',
      schema: listAnswer,
    },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/mcp/configs/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get an MCP config',
    params: ID,
    response: { status: 200, description: '{ config }', schema: oneAnswer },
  },
  {
    method: 'put',
    route: '/mcp/configs/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Update an MCP config',
    params: ID,
    body: updateBody,
    response: { status: 200, description: '{ config }', schema: oneAnswer },
  },
  {
    method: 'delete',
    route: '/mcp/configs/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Delete an MCP config',
    params: ID,
    response: { status: 200, description: '{}', schema: emptyAnswer },
  },
  {
    method: 'post',
    route: '/mcp/configs/:id/tokens',
    tag: TAG,
    auth: 'management',
    summary: 'Mint a session token for a user at this config',
    params: ID,
    body: tokenBody,
    response: { status: 200, description: 'the session token', schema: sessionTokenAnswer },
  },
  {
    method: 'post',
    route: '/mcp/configs/:id/tokens:revoke',
    tag: TAG,
    auth: 'management',
    summary: 'End every session token of the user at this config minted until now',
    params: ID,
    body: revokeBody,
    response: { status: 200, description: '{}', schema: emptyAnswer },
  },
  {
    method: 'post',
    route: '/mcp/configs/:id/connected_accounts',
    tag: TAG,
    auth: 'management',
    summary: 'Whether the user has connected each account the config needs',
    params: ID,
    body: readinessBody,
    response: { status: 200, description: '{ connected_accounts }', schema: readinessAnswer },
  },
];

function toInputs(list: z.output<typeof mappings> | undefined): MappingInput[] {
  return (list ?? []).map((m) => ({ connectionName: m.connection_name, tools: m.tools ?? [] }));
}

export function registerMcpConfigRoutes(app: Hono<AppEnv>, services: Services): void {
  const { config } = services;
  const max = config.maxBodyBytes;
  const toApi = (detail: Parameters<typeof configToApi>[0]) => configToApi(detail, config.publicUrl);

  app.post('/mcp/configs', async (c) => {
    const body = await readJson(c, createBody, max);
    const created = await services.mcpConfigs.create({
      name: body.name,
      description: body.description ?? '',
      mappings: toInputs(body.connection_tool_mappings),
    });
    return c.json({ config: toApi(created) } satisfies z.output<typeof oneAnswer>, 201);
  });

  app.get('/mcp/configs', async (c) => {
    const q = readQuery(c, listQuery);
    const offset = decodePageToken(q.page_token);
    // The reference finds a config by its server URL's last path segment.
    const byUrl = q['filter.mcp_server_url']?.replace(/\/+$/, '').split('/').pop();
    const { rows, total } = await services.mcpConfigs.list({
      id: q['filter.id'] ?? byUrl,
      name: q['filter.name'],
      provider: q['filter.provider'],
      search: q.search,
      limit: q.page_size,
      offset,
    });
    return c.json({
      configs: rows.map(toApi),
      ...pageTokens(offset, q.page_size, total),
    } satisfies McpConfigList satisfies z.output<typeof listAnswer>);
  });

  app.get('/mcp/configs/:id', async (c) => c.json({ config: toApi(await services.mcpConfigs.get(c.req.param('id'))) }));

  app.put('/mcp/configs/:id', async (c) => {
    const body = await readJson(c, updateBody, max);
    const updated = await services.mcpConfigs.update(c.req.param('id'), {
      description: body.description,
      mappings: body.connection_tool_mappings ? toInputs(body.connection_tool_mappings) : undefined,
    });
    return c.json({ config: toApi(updated) });
  });

  app.delete('/mcp/configs/:id', async (c) => {
    await services.mcpConfigs.delete(c.req.param('id'));
    return c.json({});
  });

  app.post('/mcp/configs/:id/tokens', async (c) => {
    const body = await readJson(c, tokenBody, max);
    const seconds = parseExpiry(body.expiry);
    const detail = await services.mcpConfigs.get(c.req.param('id'));
    return c.json(await services.sessionTokens.mint(detail, body.identifier, seconds), 200, {
      'cache-control': 'no-store',
    });
  });

  // Ends every session token of the identifier at this config minted until now.
  app.post('/mcp/configs/:id/tokens:revoke', async (c) => {
    const body = await readJson(c, revokeBody, max);
    const detail = await services.mcpConfigs.get(c.req.param('id'));
    await services.sessionTokens.revoke(detail.id, body.identifier);
    return c.json({});
  });

  app.post('/mcp/configs/:id/connected_accounts', async (c) => {
    const body = await readJson(c, readinessBody, max);
    const detail = await services.mcpConfigs.get(c.req.param('id'));
    const include = body.include_auth_link === true;
    const connections = await authState(services, detail.mappings, body.identifier, {
      create: include,
      links: include,
    });
    return c.json({ connected_accounts: connections });
  });
}
