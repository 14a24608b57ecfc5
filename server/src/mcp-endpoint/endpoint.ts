import { createMcpHandler, isJsonContentType } from '@modelcontextprotocol/server';
import { type Context, Hono } from 'hono';
import type { AppEnv, Services } from '../context.js';
import { isAppError } from '../errors.js';
import { readBodyText } from '../http/body.js';
import { configServerUrl } from '../mcp/configs.js';
import type { McpTarget } from '../mcp/targets.js';
import { mayBeConfigId } from '../mcp-auth/config-access.js';
import { isToolsListRequest, ListSplice } from './list-splice.js';
import { jsonRpcError, RequestGuard } from './request-guard.js';
import { McpRequestState } from './request-state.js';
import { buildMcpServer } from './server-factory.js';

/** One body for every unknown, rotated or deleted URL, so a probe learns nothing. */
const notFound = () => jsonRpcError(404, -32001, 'MCP server not found');

/**
 * Discovery documents are public: browser-based clients (MCP Inspector's UI) read them from
 * their own origin, and must see a 404 as a 404, not as a CORS failure, to try the next URL.
 */
const DISCOVERY_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'mcp-protocol-version',
  'access-control-max-age': '600',
};

export function protectedResourceMetadataUrl(publicUrl: string, configId: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/mcp/c/${configId}`;
}

/**
 * Reads a POST body once, within `maxBytes` counted as it streams in (chunked bodies too), so
 * the SDK neither clones the request (a stream tee) nor reads it again: it gets the parsed
 * body. A body that is not JSON (wrong content type, unparseable) is handed to the SDK as the
 * same text in a fresh request, for the SDK to answer exactly as it would. A body over the
 * limit is answered here, as the SDK answers it: 413 with a JSON-RPC error.
 */
async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<{ request: Request; parsed?: unknown } | { tooLarge: Response }> {
  if (request.method !== 'POST') return { request };
  let text: string;
  try {
    text = await readBodyText(request, maxBytes);
  } catch (error) {
    if (!isAppError(error) || error.code !== 'payload_too_large') throw error;
    return { tooLarge: jsonRpcError(413, -32000, `Payload Too Large: Request body must not exceed ${maxBytes} bytes`) };
  }
  if (isJsonContentType(request.headers.get('content-type')) && text.trim() !== '') {
    try {
      return { request, parsed: JSON.parse(text) as unknown };
    } catch {
      // The SDK owns the parse-error answer; give it the same body to read.
    }
  }
  return {
    request: new Request(request.url, {
      method: 'POST',
      headers: request.headers,
      body: text,
      signal: request.signal,
    }),
  };
}

/**
 * The Streamable HTTP endpoint, served statelessly by the SDK's `createMcpHandler`: each
 * request is resolved to a target here (instance URL or session token), then answered by a
 * fresh server built for it, so every replica can serve every request. The SDK owns the
 * protocol (2026-07-28 and the 2025 revisions, Accept/Content-Type/version checks, 405 for
 * GET and DELETE); this file owns who may call and what they see.
 */
export function mcpEndpoint(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config, logger, executor, signingKeys } = services;
  const guard = new RequestGuard(config);
  const handler = createMcpHandler(
    (ctx) => buildMcpServer(McpRequestState.of(ctx.authInfo), ctx.era, { executor, surface: services.toolSurface }),
    {
      maxRequestBodySize: config.maxBodyBytes,
      onerror: (error) => logger.debug({ err: error }, 'mcp request rejected or failed'),
    },
  );

  const serve = async (c: Context<AppEnv>, target: McpTarget) => {
    const read = await readJsonBody(c.req.raw, config.maxBodyBytes);
    if ('tooLarge' in read) {
      const response = read.tooLarge;
      for (const [name, value] of Object.entries(guard.corsHeaders(c.req.raw))) response.headers.set(name, value);
      return response;
    }
    let response: Response | undefined;
    if (isToolsListRequest(read.parsed)) {
      const splice = new ListSplice();
      response = await splice.finish(
        await handler.fetch(read.request, {
          authInfo: new McpRequestState(target, splice).authInfo(),
          parsedBody: read.parsed,
        }),
      );
    }
    response ??= await handler.fetch(read.request, {
      authInfo: new McpRequestState(target).authInfo(),
      ...(read.parsed !== undefined ? { parsedBody: read.parsed } : {}),
    });
    const cors = guard.corsHeaders(c.req.raw);
    for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
    return response;
  };

  const byInstance = async (c: Context<AppEnv>) => {
    const rejected = guard.reject(c.req.raw);
    if (rejected) return rejected;
    if (c.req.method === 'OPTIONS') return guard.preflight(c.req.raw);
    const target = await services.mcpTargets.byInstanceSecret(c.req.param('secret') ?? '');
    if (!target || !(await services.mcpConfigAccess.get(target.configId)).instanceUrlsEnabled) return notFound();
    return serve(c, target);
  };
  app.all('/mcp/i/:secret', byInstance);
  // MCP Inspector 0.15's CLI replaces any URL path not ending in /mcp with "/mcp"
  // (inspector-cli/build/transport.js), which drops the secret; `<instance url>/mcp` survives it.
  app.all('/mcp/i/:secret/mcp', byInstance);
  // What that rewrite (or a guessed URL) reaches: no server lives here, so say where one does.
  app.all('/mcp', (c) => {
    const rejected = guard.reject(c.req.raw);
    if (rejected) return rejected;
    return jsonRpcError(
      404,
      -32001,
      'No MCP server at /mcp: use an instance URL (…/mcp/i/<secret>, from ensure instance or the dashboard). ' +
        "MCP Inspector's CLI replaces a URL path that does not end in /mcp, so give it the instance URL followed by /mcp.",
      guard.corsHeaders(c.req.raw),
    );
  });

  app.all('/mcp/c/:configId', async (c) => {
    const rejected = guard.reject(c.req.raw);
    if (rejected) return rejected;
    if (c.req.method === 'OPTIONS') return guard.preflight(c.req.raw);
    const configId = c.req.param('configId');
    // No config has an id of another shape: answered before it costs a query or a cache entry.
    if (!mayBeConfigId(configId)) return notFound();
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const access = await services.mcpConfigAccess.get(configId);
    // A session token (minted by the app's backend) or an OAuth access token (from our
    // authorization server); each only while the config accepts that way in.
    let claims: { identifier: string } | undefined;
    if (match?.[1] && access.sessionTokensEnabled) claims = await services.sessionTokens.verify(match[1], configId);
    if (match?.[1] && !claims && access.oauthEnabled) {
      claims = await services.mcpAuthorizationServer.verifyAccessToken(match[1], configId);
    }
    if (!claims) {
      const challenge = `Bearer resource_metadata="${protectedResourceMetadataUrl(config.publicUrl, configId)}"${match ? ', error="invalid_token"' : ''}`;
      const message = match
        ? 'the session token is invalid, expired, or not for this MCP server'
        : `send Authorization: Bearer <${access.oauthEnabled ? 'access token' : 'session token'}>`;
      return jsonRpcError(401, -32001, `Unauthorized: ${message}`, {
        'www-authenticate': challenge,
        ...guard.corsHeaders(c.req.raw),
      });
    }
    const target = await services.mcpTargets.byConfig(configId, claims.identifier);
    if (!target) return notFound();
    return serve(c, target);
  });

  // RFC 9728 protected-resource metadata of a config's URL. Switchboard is its authorization
  // server while the config accepts OAuth sign-in; otherwise none is listed, as session
  // tokens come from the management API, not from an OAuth flow.
  const noSuchResource = (c: Context) =>
    c.json({ error: 'not_found', error_description: 'no such MCP server' }, 404, DISCOVERY_CORS);
  app.options(
    '/.well-known/oauth-protected-resource/*',
    () => new Response(null, { status: 204, headers: DISCOVERY_CORS }),
  );
  app.options(
    '/.well-known/oauth-protected-resource',
    () => new Response(null, { status: 204, headers: DISCOVERY_CORS }),
  );
  // The origin itself is no protected resource: only config URLs are (clients that probe here first go on).
  app.get('/.well-known/oauth-protected-resource', noSuchResource);
  app.get('/.well-known/oauth-protected-resource/mcp/c/:configId', async (c) => {
    const configId = c.req.param('configId');
    if (!mayBeConfigId(configId)) return noSuchResource(c);
    const exists = await services.db
      .selectFrom('mcp_configs')
      .select('id')
      .where('id', '=', configId)
      .executeTakeFirst();
    if (!exists) return noSuchResource(c);
    const oauth = (await services.mcpConfigAccess.get(configId)).oauthEnabled;
    return c.json(
      {
        resource: configServerUrl(config.publicUrl, configId),
        ...(oauth ? { authorization_servers: [services.mcpAuthorizationServer.issuer] } : {}),
        // Generic: anyone may fetch this document, and a config's name is the app's business.
        resource_name: 'Switchboard MCP server',
        bearer_methods_supported: ['header'],
      },
      200,
      { 'cache-control': 'max-age=300', ...DISCOVERY_CORS },
    );
  });
  app.get('/.well-known/oauth-protected-resource/*', noSuchResource);

  const jwks = (c: Context) => c.json(signingKeys.jwks(), 200, { 'cache-control': 'max-age=300' });
  app.get('/.well-known/jwks.json', jwks);
  // Where Scalekit's SDKs fetch the same keys (their getJwks: GET {env_url}/keys).
  app.get('/keys', jwks);
  return app;
}
