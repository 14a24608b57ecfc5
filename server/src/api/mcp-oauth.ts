import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Services } from '../context.js';
import { readJson, readQuery } from '../http/request.js';
import { named, type RouteDoc } from '../http/route-docs.js';
import type { ConfigAccess } from '../mcp-auth/config-access.js';
import { verifyAnswer } from './connected-accounts.js';

const verifyBody = z.strictObject({
  auth_request_id: z.string().min(1).max(200),
  identifier: z.string().min(1).max(255),
});

const accessBody = z.strictObject({
  /** null: follow the server default (SWITCHBOARD_MCP_OAUTH). */
  oauth_enabled: z.boolean().nullable().optional(),
  instance_urls_enabled: z.boolean().optional(),
  session_tokens_enabled: z.boolean().optional(),
  login_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullable()
    .optional(),
  require_active_accounts: z.boolean().optional(),
  /** app: the login page hand-off; oidc: the server's OpenID Connect issuer; null: the server's choice. */
  login_mode: z.enum(['app', 'oidc']).nullable().optional(),
});

const grantsQuery = z.strictObject({
  identifier: z.string().min(1).max(255).optional(),
  config_id: z.string().min(1).max(100).optional(),
  include_revoked: z.enum(['true', 'false']).optional(),
});

const accessSchema = named(
  'McpConfigAccess',
  z.strictObject({
    oauth_enabled: z.boolean(),
    instance_urls_enabled: z.boolean(),
    session_tokens_enabled: z.boolean(),
    login_url: z.url().nullable(),
    require_active_accounts: z.boolean(),
    login_mode: z.enum(['app', 'oidc']).nullable(),
  }),
);
const accessAnswer = z.strictObject({ access: accessSchema });

/** A grant a user gave an MCP client (GrantSummary): never a token. */
const grantSchema = named(
  'McpOAuthGrant',
  z.strictObject({
    id: z.string(),
    client_id: z.string(),
    client_name: z.string(),
    client_logo: z.string().nullable(),
    config_id: z.string(),
    identifier: z.string(),
    scope: z.string().nullable(),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable(),
    revoked_at: z.iso.datetime().nullable(),
  }),
);
const grantAnswer = z.strictObject({ grant: grantSchema });
const grantsAnswer = z.strictObject({ grants: z.array(grantSchema) });

const TAG = 'MCP sign-in';

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const mcpOAuthRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    route: '/mcp/oauth/user/verify',
    tag: TAG,
    auth: 'management',
    summary: 'Say who is signed in at the app’s login page (the MCP sign-in hand-off)',
    body: verifyBody,
    response: {
      status: 200,
      description:
        '{ post_user_verify_redirect_url }: the consent page with its secret; send the browser that signed in there',
      schema: verifyAnswer,
    },
    errors: ['user_verification_invalid', 'user_verification_used', 'user_verification_expired'],
  },
  {
    method: 'get',
    route: '/mcp/configs/:id/access',
    tag: TAG,
    auth: 'management',
    summary: 'The ways into a config’s MCP server',
    params: { id: 'the MCP config id' },
    response: { status: 200, description: '{ access }', schema: accessAnswer },
  },
  {
    method: 'put',
    route: '/mcp/configs/:id/access',
    tag: TAG,
    auth: 'management',
    summary: 'Set the ways into a config’s MCP server (OAuth, instance URLs, session tokens)',
    params: { id: 'the MCP config id' },
    body: accessBody,
    response: { status: 200, description: '{ access }', schema: accessAnswer },
  },
  {
    method: 'get',
    route: '/mcp/oauth/grants',
    tag: TAG,
    auth: 'management',
    summary: 'List the grants users gave MCP clients',
    query: grantsQuery,
    response: { status: 200, description: '{ grants }', schema: grantsAnswer },
  },
  {
    method: 'get',
    route: '/mcp/oauth/grants/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get a grant',
    params: { id: 'the grant id' },
    response: { status: 200, description: '{ grant }', schema: grantAnswer },
  },
  {
    method: 'post',
    route: '/mcp/oauth/grants/:action',
    path: '/mcp/oauth/grants/{id}:revoke',
    tag: TAG,
    auth: 'management',
    summary: 'Revoke a grant (its tokens stop on every replica within a poll)',
    params: { id: 'the grant id' },
    response: { status: 200, description: '{ grant }', schema: grantAnswer },
  },
];

function accessToApi(access: ConfigAccess): z.output<typeof accessSchema> {
  return {
    oauth_enabled: access.oauthEnabled,
    instance_urls_enabled: access.instanceUrlsEnabled,
    session_tokens_enabled: access.sessionTokensEnabled,
    login_url: access.loginUrl ?? null,
    require_active_accounts: access.requireActiveAccounts,
    login_mode: access.loginMode,
  };
}

/**
 * MCP clients signing users in (OAuth): the app's hand-off answer, each config's ways in,
 * and the grants users gave clients, listed and revoked.
 */
export function registerMcpOAuthRoutes(app: Hono<AppEnv>, services: Services): void {
  const max = services.config.maxBodyBytes;
  const server = services.mcpAuthorizationServer;

  // The sibling of /connected_accounts/user/verify for the MCP sign-in hand-off: the app says
  // who is signed in at its login page, then sends the browser to the returned URL.
  app.post('/mcp/oauth/user/verify', async (c) => {
    const body = await readJson(c, verifyBody, max);
    const { postUserVerifyRedirectUrl } = await server.verifyUser(body.auth_request_id, body.identifier);
    return c.json({ post_user_verify_redirect_url: postUserVerifyRedirectUrl });
  });

  app.get('/mcp/configs/:id/access', async (c) => {
    await services.mcpConfigs.get(c.req.param('id'));
    return c.json({ access: accessToApi(await services.mcpConfigAccess.get(c.req.param('id'))) });
  });

  app.put('/mcp/configs/:id/access', async (c) => {
    const body = await readJson(c, accessBody, max);
    const access = await services.mcpConfigAccess.update(c.req.param('id'), {
      oauthEnabled: body.oauth_enabled,
      instanceUrlsEnabled: body.instance_urls_enabled,
      sessionTokensEnabled: body.session_tokens_enabled,
      loginUrl: body.login_url,
      requireActiveAccounts: body.require_active_accounts,
      loginMode: body.login_mode,
    });
    return c.json({ access: accessToApi(access) });
  });

  app.get('/mcp/oauth/grants', async (c) => {
    const q = readQuery(c, grantsQuery);
    const grants = await server.listGrants({
      identifier: q.identifier,
      configId: q.config_id,
      includeRevoked: q.include_revoked === 'true',
    });
    return c.json({ grants } satisfies z.output<typeof grantsAnswer>);
  });

  app.get('/mcp/oauth/grants/:id', async (c) => c.json({ grant: await server.getGrant(c.req.param('id')) }));

  // POST /mcp/oauth/grants/{id}:revoke — its refresh and access tokens stop on every replica within a poll.
  app.post('/mcp/oauth/grants/:action', async (c) => {
    const action = c.req.param('action');
    const match = /^(.+):revoke$/.exec(action);
    if (!match?.[1]) return c.json({ error: { code: 'not_found', message: `no route for POST ${c.req.path}` } }, 404);
    const grant = await server.getGrant(match[1]);
    await server.revokeGrant(grant.id, 'revoked_by_app');
    return c.json({ grant: await server.getGrant(grant.id) });
  });
}
