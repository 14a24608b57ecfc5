import type { ApiClient, ApiClientList, IssuedApiClient } from '@switchboard/sdk';
import type { Hono } from 'hono';
import { z } from 'zod';
import { type ApiClientRow, CLIENT_SCOPES, type ClientScope, type IssuedClient } from '../auth/api-clients.js';
import type { AppEnv, Services } from '../context.js';
import { AppError } from '../errors.js';
import { readJson } from '../http/request.js';
import { named, type RouteDoc } from '../http/route-docs.js';
import { requireAdmin } from './management-auth.js';

const createBody = z.strictObject({
  name: z.string().min(1).max(100),
  scope: z.enum(CLIENT_SCOPES as [ClientScope, ...ClientScope[]]).optional(),
});

export function clientToApi(row: ApiClientRow): ApiClient {
  return {
    id: row.id,
    client_id: row.client_id,
    name: row.name,
    scope: row.scope,
    created_at: row.created_at,
    // Omitted while unset, as protobuf JSON omits an unset timestamp.
    ...(row.revoked_at ? { revoked_at: row.revoked_at } : {}),
  };
}

function issuedToApi(issued: IssuedClient, row: ApiClientRow): IssuedApiClient {
  return { ...clientToApi(row), client_secret: issued.client_secret };
}

const clientFields = {
  id: z.string(),
  client_id: z.string(),
  name: z.string(),
  scope: z.enum(CLIENT_SCOPES as [ClientScope, ...ClientScope[]]),
  created_at: z.iso.datetime(),
  /** Omitted while unset, as protobuf JSON omits an unset timestamp. */
  revoked_at: z.iso.datetime().optional(),
};
const clientSchema = named('ApiClient', z.strictObject(clientFields));
/** A client with its secret: the answer of create and rotate_secret, the only time it is shown. */
const issuedSchema = named('IssuedApiClient', z.strictObject({ ...clientFields, client_secret: z.string() }));
const oneAnswer = z.strictObject({ client: clientSchema });
const issuedAnswer = z.strictObject({ client: issuedSchema });
const listAnswer = named('ApiClientList', z.strictObject({ clients: z.array(clientSchema) }));

const noStore = { 'cache-control': 'no-store' };

const TAG = 'API clients';
const ID = { id: 'the API client id' };

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts); admin clients only. */
export const clientRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    route: '/clients',
    tag: TAG,
    auth: 'management',
    summary: 'List management API clients',
    response: { status: 200, description: '{ clients }', schema: listAnswer },
  },
  {
    method: 'post',
    route: '/clients',
    tag: TAG,
    auth: 'management',
    summary: 'Create a management API client',
    description: 'The secret is in this answer only.',
    body: createBody,
    response: { status: 201, description: '{ client } with client_secret', schema: issuedAnswer },
  },
  {
    method: 'get',
    route: '/clients/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get a management API client',
    params: ID,
    response: { status: 200, description: '{ client }', schema: oneAnswer },
  },
  {
    method: 'post',
    route: '/clients/:action',
    path: '/clients/{id}:revoke',
    tag: TAG,
    auth: 'management',
    summary: 'Revoke a client (its tokens stop working)',
    params: ID,
    response: { status: 200, description: '{ client }', schema: oneAnswer },
  },
  {
    method: 'post',
    route: '/clients/:action',
    path: '/clients/{id}:rotate_secret',
    tag: TAG,
    auth: 'management',
    summary: 'Issue a new secret (the old one stops working)',
    params: ID,
    response: { status: 200, description: '{ client } with client_secret', schema: issuedAnswer },
  },
];

/** Management API clients: admin clients only, since a client can mint admin credentials. */
export function registerClientRoutes(app: Hono<AppEnv>, services: Services): void {
  const { apiClients, config } = services;

  app.use('/clients', async (c, next) => {
    requireAdmin(c);
    await next();
  });
  app.use('/clients/*', async (c, next) => {
    requireAdmin(c);
    await next();
  });

  app.get('/clients', async (c) => {
    const rows = await apiClients.list();
    return c.json({ clients: rows.map(clientToApi) } satisfies ApiClientList satisfies z.output<typeof listAnswer>);
  });

  app.post('/clients', async (c) => {
    const body = await readJson(c, createBody, config.maxBodyBytes);
    const issued = await apiClients.create(body.name, body.scope ?? 'admin');
    return c.json({ client: issuedToApi(issued, await apiClients.get(issued.id)) }, 201, noStore);
  });

  app.get('/clients/:id', async (c) => c.json({ client: clientToApi(await apiClients.get(c.req.param('id'))) }));

  // Custom methods in the reference's `{id}:verb` style.
  app.post('/clients/:action', async (c) => {
    const [id, verb] = c.req.param('action').split(':');
    if (id && verb === 'revoke') return c.json({ client: clientToApi(await apiClients.revoke(id)) });
    if (id && verb === 'rotate_secret') {
      const issued = await apiClients.rotateSecret(id);
      return c.json({ client: issuedToApi(issued, await apiClients.get(issued.id)) }, 200, noStore);
    }
    throw new AppError('not_found', `no route for POST ${new URL(c.req.url).pathname}`);
  });
}
