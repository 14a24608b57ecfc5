import type { Connection, ConnectionList } from '@switchboard/sdk';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { createBody, createConnection, updateBody, updateConnection } from '../connections/connection-input.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { AppEnv, Services } from '../context.js';
import { decodePageToken, pageSize, pageTokens, readJson, readQuery } from '../http/request.js';
import { emptyAnswer, named, pageFields, type RouteDoc } from '../http/route-docs.js';

const listQuery = z.strictObject({
  provider: z.string().optional(),
  page_size: pageSize(100, 50),
  page_token: z.string().optional(),
});

/** A connection as the API shows it (connectionToApi): the OAuth secret never, only whether it is set. */
export const connectionSchema = named(
  'Connection',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    provider: z.string(),
    provider_display_name: z.string(),
    target: z.enum(['sandbox', 'provider']),
    oauth_client_id: z.string(),
    oauth_client_secret_set: z.boolean(),
    scopes: z.array(z.string()),
    effective_scopes: z.array(z.string()),
    redirect_uri: z.url(),
    user_verify_url: z.string(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  }),
);
const oneAnswer = z.strictObject({ connection: connectionSchema });
const listAnswer = named('ConnectionList', z.strictObject({ connections: z.array(connectionSchema), ...pageFields }));

const TAG = 'Connections';
const ID = { id: 'the connection id' };

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const connectionRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    route: '/connections',
    tag: TAG,
    auth: 'management',
    summary: 'Create a connection (an OAuth app for one provider)',
    body: createBody,
    response: { status: 201, description: '{ connection }', schema: oneAnswer },
    errors: ['already_exists'],
  },
  {
    method: 'get',
    route: '/connections',
    tag: TAG,
    auth: 'management',
    summary: 'List connections',
    query: listQuery,
    response: {
      status: 200,
      description: '{ connections, next_page_token, prev_page_token, total_size }',
      schema: listAnswer,
    },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/connections/app',
    tag: TAG,
    auth: 'management',
    summary: 'List connections (the reference’s alias)',
    query: listQuery,
    response: { status: 200, description: 'as GET /connections', schema: listAnswer },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/connections/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get a connection',
    params: ID,
    response: {
      status: 200,
      description: '{ connection }; the OAuth client secret is never returned',
      schema: oneAnswer,
    },
  },
  {
    method: 'patch',
    route: '/connections/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Update a connection',
    params: ID,
    body: updateBody,
    response: { status: 200, description: '{ connection }', schema: oneAnswer },
  },
  {
    method: 'delete',
    route: '/connections/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Delete a connection',
    params: ID,
    response: { status: 200, description: '{}', schema: emptyAnswer },
    errors: ['failed_precondition'],
  },
];

/** The connection as the API shows it: the OAuth secret is never returned, only whether it is set. */
export function connectionToApi(row: ConnectionRow, services: Services): Connection {
  const provider = services.catalog.providers.get(row.provider);
  const configured = JSON.parse(row.scopes) as string[];
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    provider_display_name: provider?.displayName ?? row.provider,
    target: row.target,
    oauth_client_id: row.oauth_client_id,
    oauth_client_secret_set: row.oauth_client_secret_enc !== null,
    scopes: configured,
    effective_scopes: configured.length ? configured : (provider?.defaultScopes ?? []),
    redirect_uri: services.oauth.redirectUri(),
    user_verify_url: row.user_verify_url ?? '',
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function registerConnectionRoutes(app: Hono<AppEnv>, services: Services): void {
  const { connections, config } = services;

  app.post('/connections', async (c) => {
    const body = await readJson(c, createBody, config.maxBodyBytes);
    const row = await createConnection(services, body);
    return c.json({ connection: connectionToApi(row, services) } satisfies z.output<typeof oneAnswer>, 201);
  });

  const list = async (c: Context<AppEnv>) => {
    const query = readQuery(c, listQuery);
    const offset = decodePageToken(query.page_token);
    const { rows, total } = await connections.list({ provider: query.provider, limit: query.page_size, offset });
    return c.json({
      connections: rows.map((row) => connectionToApi(row, services)),
      ...pageTokens(offset, query.page_size, total),
    } satisfies ConnectionList satisfies z.output<typeof listAnswer>);
  };
  app.get('/connections', list);
  app.get('/connections/app', list);

  app.get('/connections/:id', async (c) => {
    return c.json({ connection: connectionToApi(await connections.get(c.req.param('id')), services) });
  });

  app.patch('/connections/:id', async (c) => {
    const body = await readJson(c, updateBody, config.maxBodyBytes);
    const row = await updateConnection(services, c.req.param('id'), body);
    return c.json({ connection: connectionToApi(row, services) });
  });

  app.delete('/connections/:id', async (c) => {
    await connections.delete(c.req.param('id'));
    return c.json({});
  });
}
