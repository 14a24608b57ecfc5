import { z } from 'zod';
import { named, type RouteDoc } from '../http/route-docs.js';
import { clientMetadata } from '../mcp-auth/clients.js';
import { authorizeParams, revokeParams, tokenParams, upstreamCallbackParams } from '../mcp-auth/oauth-params.js';
import { consentConnectForm, consentDecisionForm, consentPageParams } from './forms.js';

/** RFC 8414 metadata, as McpAuthorizationServer.metadata builds it. */
const metadata = named(
  'AuthorizationServerMetadata',
  z.strictObject({
    issuer: z.url(),
    authorization_endpoint: z.url(),
    token_endpoint: z.url(),
    revocation_endpoint: z.url(),
    /** Absent while dynamic client registration is turned off. */
    registration_endpoint: z.url().optional(),
    jwks_uri: z.url(),
    response_types_supported: z.array(z.literal('code')),
    response_modes_supported: z.array(z.literal('query')),
    grant_types_supported: z.array(z.enum(['authorization_code', 'refresh_token'])),
    code_challenge_methods_supported: z.array(z.literal('S256')),
    token_endpoint_auth_methods_supported: z.array(z.enum(['none', 'client_secret_basic', 'client_secret_post'])),
    revocation_endpoint_auth_methods_supported: z.array(z.enum(['none', 'client_secret_basic', 'client_secret_post'])),
    client_id_metadata_document_supported: z.boolean(),
    authorization_response_iss_parameter_supported: z.literal(true),
  }),
);

/** The token endpoint's answer (TokenResponse). */
const tokens = named(
  'McpTokenResponse',
  z.strictObject({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().positive(),
    refresh_token: z.string(),
    scope: z.string().optional(),
  }),
);

/** RFC 7591 §3.2.1: the registered client; a confidential one gets its secret here only. */
const registeredClient = named(
  'RegisteredMcpClient',
  z.strictObject({
    client_id: z.string(),
    client_secret: z.string().optional(),
    client_secret_expires_at: z.literal(0).optional(),
    client_id_issued_at: z.number().int(),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
    grant_types: z.array(z.string()),
    response_types: z.array(z.literal('code')),
    logo_uri: z.url().optional(),
    client_uri: z.url().optional(),
  }),
);

const TAG = 'MCP sign-in (OAuth 2.1)';
const WELL_KNOWN = 'Well-known documents';

/**
 * The authorization server MCP clients sign users in with. Its parameters are the standards'
 * (OAuth 2.1, RFC 7591, RFC 7009), each read through the zod schema listed here
 * (mcp-auth/oauth-params.ts, forms.ts); the errors are OAuth's `{ error, error_description }`.
 */
export const oauthServerDocs: RouteDoc[] = [
  {
    method: 'get',
    route: '/.well-known/oauth-authorization-server',
    tag: WELL_KNOWN,
    auth: 'none',
    summary: 'RFC 8414 authorization server metadata',
    response: {
      status: 200,
      description: '{ issuer, authorization_endpoint, token_endpoint, registration_endpoint, … }',
      schema: metadata,
    },
  },
  {
    method: 'get',
    route: '/mcp-oauth/authorize',
    tag: TAG,
    auth: 'none',
    summary: 'Start a sign-in (authorization code with PKCE S256)',
    query: authorizeParams,
    response: {
      status: 302,
      description: 'to the app’s login page, or back to the client with an error',
      contentType: 'text/html',
    },
  },
  {
    method: 'get',
    route: '/mcp-oauth/oidc/callback',
    tag: TAG,
    auth: 'none',
    summary: 'The app’s OpenID Connect issuer sends the browser back here',
    query: upstreamCallbackParams,
    response: { status: 302, description: 'on to the consent page, with its secret', contentType: 'text/html' },
  },
  {
    method: 'get',
    route: '/mcp-oauth/consent/:id',
    tag: TAG,
    auth: 'none',
    summary: 'The consent page (needs the sign-in cookie and the secret the sign-in sent the browser here with)',
    params: { id: 'the sign-in request id' },
    query: consentPageParams,
    response: { status: 200, description: 'an HTML page', contentType: 'text/html' },
  },
  {
    method: 'post',
    route: '/mcp-oauth/consent/:id/connect',
    tag: TAG,
    auth: 'none',
    summary: 'Connect a missing account from the consent page',
    params: { id: 'the sign-in request id' },
    body: consentConnectForm,
    form: true,
    response: { status: 303, description: 'to the connect page' },
  },
  {
    method: 'post',
    route: '/mcp-oauth/consent/:id',
    tag: TAG,
    auth: 'none',
    summary: 'Allow or deny the client',
    params: { id: 'the sign-in request id' },
    body: consentDecisionForm,
    form: true,
    response: {
      status: 303,
      description: 'back to the client’s redirect URI with a code or an error',
      contentType: 'text/html',
    },
  },
  {
    method: 'post',
    route: '/mcp-oauth/token',
    tag: TAG,
    auth: 'none',
    summary: 'Exchange a code, or a refresh token, for an MCP access token',
    errorFormat: 'oauth',
    body: tokenParams,
    form: true,
    response: {
      status: 200,
      description: '{ access_token, token_type, expires_in, refresh_token, scope }',
      schema: tokens,
    },
  },
  {
    method: 'post',
    route: '/mcp-oauth/revoke',
    tag: TAG,
    auth: 'none',
    summary: 'RFC 7009 token revocation',
    errorFormat: 'oauth',
    body: revokeParams,
    form: true,
    response: { status: 200, description: 'empty', empty: true },
  },
  {
    method: 'post',
    route: '/mcp-oauth/register',
    tag: TAG,
    auth: 'none',
    summary: 'RFC 7591 dynamic client registration',
    errorFormat: 'oauth',
    description: 'Takes RFC 7591 client metadata as JSON.',
    body: clientMetadata,
    response: { status: 201, description: 'the registered client, with client_id', schema: registeredClient },
  },
];
