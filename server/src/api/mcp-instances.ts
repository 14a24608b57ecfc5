import type { McpAuthState, McpInstanceList } from '@switchboard/sdk';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Services } from '../context.js';
import { AppError } from '../errors.js';
import { decodePageToken, pageSize, pageTokens, readJson, readQuery } from '../http/request.js';
import { emptyAnswer, named, pageFields, type RouteDoc } from '../http/route-docs.js';
import { authState } from '../mcp/auth-state.js';
import { connectionAuthStateSchema, mcpConfigSchema } from './mcp-configs.js';

const instanceName = z.string().min(1).max(100);
const userIdentifier = z.string().min(1).max(255);
const configName = z.string().min(1).max(100);

const ensureBody = z.strictObject({
  config_name: configName,
  user_identifier: userIdentifier,
  name: instanceName.optional(),
});

const updateBody = z.strictObject({ name: instanceName.optional(), config_name: configName.optional() });

const authStateBody = z.strictObject({
  include_auth_links: z.boolean().optional(),
  /** User verification for the links issued (as magic_link's). */
  user_verify_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
  state: z.string().max(1024).optional(),
});

const authStateQuery = z.object({
  include_auth_links: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});

const listQuery = z.strictObject({
  'filter.id': z.string().optional(),
  'filter.name': z.string().optional(),
  'filter.config_name': z.string().optional(),
  'filter.user_identifier': z.string().optional(),
  search: z.string().max(255).optional(),
  page_size: pageSize(30, 30),
  page_token: z.string().optional(),
});

/** An instance as McpInstances.toApi shows it: with the user's MCP URL (a capability) for admin clients only. */
const instanceSchema = named(
  'McpInstance',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    user_identifier: z.string(),
    config: mcpConfigSchema,
    /** Omitted until first use, as protobuf JSON omits an unset timestamp. */
    last_used_at: z.iso.datetime().optional(),
    updated_at: z.iso.datetime(),
    /** Omitted for a `read` client: whoever holds the URL runs the config's tools as the user. */
    url: z.url().optional(),
  }),
);
const oneAnswer = z.strictObject({ instance: instanceSchema });
const listAnswer = named('McpInstanceList', z.strictObject({ instances: z.array(instanceSchema), ...pageFields }));
const authStateAnswer = named('McpAuthState', z.strictObject({ connections: z.array(connectionAuthStateSchema) }));

const TAG = 'MCP instances';
const ID = { id: 'the MCP instance id' };

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const mcpInstanceRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    route: '/mcp/instances',
    tag: TAG,
    auth: 'management',
    summary: 'Ensure the MCP instance of a user at a config',
    description: 'Idempotent: answers 201 when it creates the instance, 200 with the existing one otherwise.',
    body: ensureBody,
    response: {
      status: 201,
      also: [200],
      description: '{ instance } (200 when it already existed)',
      schema: oneAnswer,
    },
  },
  {
    method: 'get',
    route: '/mcp/instances',
    tag: TAG,
    auth: 'management',
    summary: 'List MCP instances',
    description: 'Each instance’s `url` is given to admin clients only: a `read` client gets the instances without it.',
    query: listQuery,
    response: {
      status: 200,
      description: '{ instances, next_page_token, prev_page_token, total_size }',
      schema: listAnswer,
    },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/mcp/instances/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get an MCP instance',
    description: 'Its `url` is given to admin clients only: a `read` client gets the instance without it.',
    params: ID,
    response: { status: 200, description: '{ instance }', schema: oneAnswer },
  },
  {
    method: 'patch',
    route: '/mcp/instances/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Rename an instance or move it to another config',
    params: ID,
    body: updateBody,
    response: { status: 200, description: '{ instance }', schema: oneAnswer },
  },
  {
    method: 'delete',
    route: '/mcp/instances/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Delete an MCP instance',
    params: ID,
    response: { status: 200, description: '{}', schema: emptyAnswer },
  },
  {
    method: 'post',
    route: '/mcp/instances/:action',
    path: '/mcp/instances/{id}:rotate_url',
    tag: TAG,
    auth: 'management',
    summary: 'Rotate the instance URL (the old one stops working)',
    params: ID,
    response: { status: 200, description: '{ instance }', schema: oneAnswer },
  },
  {
    method: 'post',
    route: '/mcp/instances/:action',
    path: '/mcp/instances/{id}:get_auth_state',
    tag: TAG,
    auth: 'management',
    summary: 'Which of the instance’s connections the user has connected, with links for the rest',
    params: ID,
    body: authStateBody,
    query: authStateQuery,
    response: { status: 200, description: '{ connections }', schema: authStateAnswer },
  },
];

export function registerMcpInstanceRoutes(app: Hono<AppEnv>, services: Services): void {
  const max = services.config.maxBodyBytes;
  const instances = services.mcpInstances;
  const noStore = { 'cache-control': 'no-store' };
  // A `read` client may list and get instances but not hold their URLs (see McpInstances.toApi);
  // the routes that write are admin-only already, and answer with the URL.
  const withUrl = (c: Context<AppEnv>) => c.get('clientScope') === 'admin';

  app.post('/mcp/instances', async (c) => {
    const body = await readJson(c, ensureBody, max);
    const { row, config, created } = await instances.ensure({
      configName: body.config_name,
      userIdentifier: body.user_identifier,
      name: body.name,
    });
    return c.json({ instance: instances.toApi(row, config, withUrl(c)) }, created ? 201 : 200, noStore);
  });

  app.get('/mcp/instances', async (c) => {
    const q = readQuery(c, listQuery);
    const offset = decodePageToken(q.page_token);
    const { rows, total } = await instances.list({
      id: q['filter.id'],
      name: q['filter.name'],
      configName: q['filter.config_name'],
      userIdentifier: q['filter.user_identifier'],
      search: q.search,
      limit: q.page_size,
      offset,
    });
    return c.json(
      {
        instances: rows.map(({ row, config }) => instances.toApi(row, config, withUrl(c))),
        ...pageTokens(offset, q.page_size, total),
      } satisfies McpInstanceList satisfies z.output<typeof listAnswer>,
      200,
      noStore,
    );
  });

  app.get('/mcp/instances/:id', async (c) => {
    const { row, config } = await instances.get(c.req.param('id'));
    return c.json({ instance: instances.toApi(row, config, withUrl(c)) }, 200, noStore);
  });

  app.patch('/mcp/instances/:id', async (c) => {
    const body = await readJson(c, updateBody, max);
    const { row, config } = await instances.update(c.req.param('id'), {
      name: body.name,
      configName: body.config_name,
    });
    return c.json({ instance: instances.toApi(row, config, withUrl(c)) }, 200, noStore);
  });

  app.delete('/mcp/instances/:id', async (c) => {
    await instances.delete(c.req.param('id'));
    return c.json({});
  });

  // Custom methods in the reference's `{id}:verb` style.
  app.post('/mcp/instances/:action', async (c) => {
    const [id, verb] = c.req.param('action').split(':');
    if (id && verb === 'rotate_url') {
      const { row, config } = await instances.rotateUrl(id);
      return c.json({ instance: instances.toApi(row, config, withUrl(c)) }, 200, noStore);
    }
    if (id && verb === 'get_auth_state') {
      const body = await readJson(c, authStateBody, max);
      // The reference's gateway also takes it from the query (`?include_auth_links=true`).
      const fromQuery = readQuery(c, authStateQuery).include_auth_links;
      const { row, config } = await instances.get(id);
      const connections = await authState(services, config.mappings, row.user_identifier, {
        create: true,
        links: (body.include_auth_links ?? fromQuery) === true,
        userVerifyUrl: body.user_verify_url,
        state: body.state,
      });
      return c.json({ connections } satisfies McpAuthState);
    }
    throw new AppError('not_found', `no route for POST ${new URL(c.req.url).pathname}`);
  });
}
