import { z } from 'zod';
import { named, type RouteDoc } from '../http/route-docs.js';

const TAG = 'MCP';
const STREAMABLE =
  'MCP Streamable HTTP, served statelessly: JSON-RPC 2.0 in the body of a POST. Errors are JSON-RPC errors, not the REST envelope.';

const jsonRpcId = z.union([z.string(), z.number()]);
/** The answer to one JSON-RPC request: its result, or an error (a failing tool is a result with isError). */
const jsonRpcResponse = named(
  'JsonRpcResponse',
  z.union([
    z.strictObject({ jsonrpc: z.literal('2.0'), id: jsonRpcId, result: z.record(z.string(), z.unknown()) }),
    z.strictObject({
      jsonrpc: z.literal('2.0'),
      id: jsonRpcId.nullable(),
      error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
    }),
  ]),
);

function mcp(route: string, summary: string, params: Record<string, string>, auth: RouteDoc['auth']): RouteDoc[] {
  const errorStatuses = auth === 'mcp' ? [400, 401, 404, 406, 413, 415] : [400, 404, 406, 413, 415];
  return [
    {
      method: 'post',
      route,
      tag: TAG,
      auth,
      summary,
      description: STREAMABLE,
      params,
      response: {
        status: 200,
        also: [202],
        description: 'the JSON-RPC response, as JSON or one server-sent event (202 with no body for a notification)',
        schema: jsonRpcResponse,
        events: true,
      },
      errorFormat: 'jsonrpc',
      errorStatuses,
    },
    ...(['get', 'delete'] as const).map(
      (method): RouteDoc => ({
        method,
        route,
        tag: TAG,
        auth,
        summary: `${method.toUpperCase()} is not served: a stateless server opens no event stream and ends no session`,
        params,
        response: { status: 405, description: 'a JSON-RPC error', schema: jsonRpcResponse },
        errorFormat: 'jsonrpc',
        errorStatuses,
      }),
    ),
  ];
}

/** RFC 9728, as the handler builds it. */
const protectedResource = named(
  'ProtectedResourceMetadata',
  z.strictObject({
    resource: z.url(),
    /** Present while the config accepts OAuth sign-in. */
    authorization_servers: z.array(z.url()).optional(),
    resource_name: z.string(),
    bearer_methods_supported: z.array(z.literal('header')),
  }),
);

/** The public signing keys (ES256), as jose exports them. */
const jwks = named(
  'JsonWebKeySet',
  z.strictObject({
    keys: z.array(
      z.strictObject({
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        alg: z.literal('ES256'),
        use: z.literal('sig'),
      }),
    ),
  }),
);

/** The MCP servers and the documents MCP clients and SDKs fetch. */
export const mcpEndpointDocs: RouteDoc[] = [
  ...mcp(
    '/mcp/c/:configId',
    'A config’s MCP server, for a user signed in (OAuth) or holding a session token',
    { configId: 'the MCP config id' },
    'mcp',
  ),
  ...mcp(
    '/mcp/i/:secret',
    'An instance’s MCP server; the URL’s secret is the credential',
    { secret: 'the instance URL secret' },
    'none',
  ),
  ...mcp(
    '/mcp/i/:secret/mcp',
    'The same instance server (for clients that append /mcp)',
    { secret: 'the instance URL secret' },
    'none',
  ),
  {
    method: 'get',
    route: '/.well-known/oauth-protected-resource/mcp/c/:configId',
    tag: 'Well-known documents',
    auth: 'none',
    summary: 'RFC 9728 protected-resource metadata of a config’s MCP URL',
    description: 'Lists Switchboard as the authorization server while the config accepts OAuth sign-in.',
    params: { configId: 'the MCP config id' },
    response: { status: 200, description: '{ resource, authorization_servers, … }', schema: protectedResource },
    errorFormat: 'oauth',
    errorStatuses: [404],
  },
  {
    method: 'get',
    route: '/.well-known/jwks.json',
    tag: 'Well-known documents',
    auth: 'none',
    summary: 'The public keys that verify management and MCP access tokens',
    response: { status: 200, description: '{ keys: [JWK] }', schema: jwks },
  },
  {
    method: 'get',
    route: '/keys',
    tag: 'Well-known documents',
    auth: 'none',
    summary: 'The same keys, where Scalekit’s SDKs fetch them',
    response: { status: 200, description: '{ keys: [JWK] }', schema: jwks },
  },
];
