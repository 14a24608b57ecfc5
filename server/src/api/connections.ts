import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, AppServices } from '../app.js';
import type { ConnectionRow } from '../connections/connections.js';
import { AppError } from '../errors.js';
import { decodePageToken, pageSize, pageTokens, readJson, readQuery } from './http.js';

const connectionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'use 1–64 letters, digits, "_" or "-", starting with a letter or digit');
const scopes = z.array(z.string().min(1).max(300)).max(50);
const target = z.enum(['sandbox', 'provider']);

export const createBody = z.strictObject({
  name: connectionName,
  provider: z.string().min(1),
  target: target.optional(),
  oauth_client_id: z.string().min(1).max(500).optional(),
  oauth_client_secret: z.string().min(1).max(500).optional(),
  scopes: scopes.optional(),
});

export const updateBody = z.strictObject({
  name: connectionName.optional(),
  target: target.optional(),
  oauth_client_id: z.string().min(1).max(500).optional(),
  oauth_client_secret: z.string().min(1).max(500).nullable().optional(),
  scopes: scopes.optional(),
});

const listQuery = z.strictObject({
  provider: z.string().optional(),
  page_size: pageSize(100, 50),
  page_token: z.string().optional(),
});

/** The connection as the API shows it: the OAuth secret is never returned, only whether it is set. */
export function connectionToApi(row: ConnectionRow, services: AppServices) {
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
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The sandbox accepts any OAuth app; these stand in when a sandbox connection names none. */
const SANDBOX_CLIENT_ID = 'switchboard-sandbox-client';

/** Creates a connection from a validated body: the rules the REST API and the dashboard share. */
export async function createConnection(
  services: AppServices,
  body: z.output<typeof createBody>,
): Promise<ConnectionRow> {
  const { catalog } = services;
  const connections = services.accounts.connections;
  if (!catalog.providers.has(body.provider)) {
    throw new AppError(
      'validation_failed',
      `provider: unknown provider "${body.provider}" (known: ${[...catalog.providers.keys()].join(', ')})`,
    );
  }
  const chosenTarget = body.target ?? (body.oauth_client_id ? 'provider' : 'sandbox');
  if (chosenTarget === 'provider' && (!body.oauth_client_id || !body.oauth_client_secret)) {
    throw new AppError(
      'validation_failed',
      'oauth_client_id and oauth_client_secret are required for a connection to the real provider (or use target "sandbox")',
    );
  }
  return connections.create({
    name: body.name,
    provider: body.provider,
    target: chosenTarget,
    oauthClientId: body.oauth_client_id ?? SANDBOX_CLIENT_ID,
    oauthClientSecret: body.oauth_client_secret ?? (chosenTarget === 'sandbox' ? 'sandbox-secret' : undefined),
    scopes: body.scopes ?? [],
  });
}

/** Applies a validated update body to a connection. */
export async function updateConnection(
  services: AppServices,
  id: string,
  body: z.output<typeof updateBody>,
): Promise<ConnectionRow> {
  return services.accounts.connections.update(id, {
    name: body.name,
    target: body.target,
    oauthClientId: body.oauth_client_id,
    oauthClientSecret: body.oauth_client_secret,
    scopes: body.scopes,
  });
}

export function registerConnectionRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { accounts, config } = services;
  const connections = accounts.connections;

  app.post('/api/v1/connections', async (c) => {
    const body = await readJson(c, createBody, config.maxBodyBytes);
    const row = await createConnection(services, body);
    return c.json({ connection: connectionToApi(row, services) }, 201);
  });

  const list = async (c: Context<AppEnv>) => {
    const query = readQuery(c, listQuery);
    const offset = decodePageToken(query.page_token);
    const { rows, total } = await connections.list({ provider: query.provider, limit: query.page_size, offset });
    return c.json({
      connections: rows.map((row) => connectionToApi(row, services)),
      ...pageTokens(offset, query.page_size, total),
    });
  };
  app.get('/api/v1/connections', list);
  app.get('/api/v1/connections/app', list);

  app.get('/api/v1/connections/:id', async (c) => {
    return c.json({ connection: connectionToApi(await connections.get(c.req.param('id')), services) });
  });

  app.patch('/api/v1/connections/:id', async (c) => {
    const body = await readJson(c, updateBody, config.maxBodyBytes);
    const row = await updateConnection(services, c.req.param('id'), body);
    return c.json({ connection: connectionToApi(row, services) });
  });

  app.delete('/api/v1/connections/:id', async (c) => {
    await connections.delete(c.req.param('id'));
    return c.json({});
  });
}
