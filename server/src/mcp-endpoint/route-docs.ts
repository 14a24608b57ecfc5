import type { RouteDoc } from '../http/route-docs.js';

const TAG = 'MCP';
const STREAMABLE =
  'MCP Streamable HTTP (JSON-RPC 2.0 in the body; GET opens the server-sent event stream, DELETE ends a session). Errors are JSON-RPC errors, not the REST envelope.';

function mcp(route: string, summary: string, params: Record<string, string>, auth: RouteDoc['auth']): RouteDoc[] {
  return (['post', 'get', 'delete'] as const).map((method) => ({
    method,
    route,
    tag: TAG,
    auth,
    summary,
    description: STREAMABLE,
    params,
    response: { status: 200, description: 'a JSON-RPC response, or an event stream', contentType: 'application/json' },
  }));
}

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
    response: { status: 200, description: '{ resource, authorization_servers, … }' },
  },
  {
    method: 'get',
    route: '/.well-known/jwks.json',
    tag: 'Well-known documents',
    auth: 'none',
    summary: 'The public keys that verify management and MCP access tokens',
    response: { status: 200, description: '{ keys: [JWK] }' },
  },
  {
    method: 'get',
    route: '/keys',
    tag: 'Well-known documents',
    auth: 'none',
    summary: 'The same keys, where Scalekit’s SDKs fetch them',
    response: { status: 200, description: '{ keys: [JWK] }' },
  },
];
