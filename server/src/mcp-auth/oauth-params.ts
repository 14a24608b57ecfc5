import { z } from 'zod';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * The parameters of the authorization server's endpoints, as the checks in
 * authorization-server.ts read them (through `paramOf`) and as the API reference lists them.
 * Each one is a single form or query value. The checks stay field by field, in the order the
 * standards want: which failure is told to the client at its redirect URI, and which only to the
 * person in the browser, depends on which field failed (RFC 6749 §4.1.2.1). Unknown parameters
 * are ignored (RFC 6749 §3.1).
 */
export const authorizeParams = z.object({
  response_type: z.literal('code'),
  client_id: z.string().min(1).describe('a registered client id, or the URL of a client metadata document'),
  redirect_uri: z.string().min(1).describe('one of the client’s registered redirect URIs'),
  code_challenge: z.string().regex(PKCE_VALUE).describe('PKCE: BASE64URL(SHA-256(code_verifier))'),
  code_challenge_method: z.literal('S256'),
  state: z.string().optional(),
  scope: z.string().max(1000).optional(),
  resource: z.string().describe('the MCP URL the token is for (RFC 8707); exactly once'),
});

/** RFC 6749 §4.1.3 and §6; the client authenticates in the form or with HTTP Basic. */
export const tokenParams = z.object({
  grant_type: z.enum(['authorization_code', 'refresh_token']),
  code: z.string().min(1).optional().describe('authorization_code: the code from the redirect'),
  code_verifier: z.string().min(1).optional().describe('authorization_code: the PKCE verifier'),
  redirect_uri: z.string().optional().describe('authorization_code: as in the authorize request'),
  refresh_token: z.string().min(1).optional().describe('refresh_token: the refresh token (single use)'),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  resource: z.string().optional().describe('the MCP URL, as authorized (RFC 8707)'),
});

/** RFC 7009 §2.1. */
export const revokeParams = z.object({
  token: z.string().min(1),
  token_type_hint: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

/** The OpenID Connect issuer's redirect back (OIDC upstream); the rest of it is the issuer's. */
export const upstreamCallbackParams = z.object({
  state: z.string().min(1),
  code: z.string().optional(),
  error: z.string().optional().describe('set when the user declined at the issuer'),
  iss: z.string().optional(),
});

/** Whether a parameter came at all, more than once, or once: then its value, if its schema takes it. */
export type Param<T> =
  | { given: false; repeated: false; value: undefined }
  | { given: true; repeated: true; value: undefined }
  | { given: true; repeated: false; value: T | undefined };

/** Reads one parameter of `schema` from a form or query, through that field's own schema. */
export function paramOf<S extends z.ZodObject, K extends keyof S['shape'] & string>(
  params: URLSearchParams,
  schema: S,
  name: K,
): Param<z.output<S['shape'][K]>> {
  const values = params.getAll(name);
  if (values.length === 0) return { given: false, repeated: false, value: undefined };
  if (values.length > 1) return { given: true, repeated: true, value: undefined };
  const parsed = (schema.shape[name] as z.ZodType<z.output<S['shape'][K]>>).safeParse(values[0]);
  return { given: true, repeated: false, value: parsed.success ? parsed.data : undefined };
}
