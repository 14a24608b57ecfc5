import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { managementAudience, verifyManagementToken } from '../auth/management-tokens.js';
import type { AppEnv, Services } from '../context.js';
import { AppError, isAppError } from '../errors.js';
import { readBodyText } from '../http/body.js';
import { clientAddress } from '../http/client-address.js';
import type { RouteDoc } from '../http/route-docs.js';
import { type RateKey, retryAfterSeconds } from '../rate-limits/rate-limiter.js';

const tokenRequest = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const tokenAnswer = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
  /** The client's scope: what the token may do. */
  scope: z.enum(['admin', 'read']),
});

/** The token endpoint in the reference (mounted at /oauth); its errors are RFC 6749's, not the table's. */
export const tokenEndpointDocs: RouteDoc[] = [
  {
    method: 'post',
    route: '/token',
    tag: 'Authentication',
    auth: 'none',
    summary: 'Exchange client credentials for a management access token',
    description:
      'grant_type=client_credentials; the client id and secret in the form, or as HTTP Basic. Errors follow RFC 6749 §5.2: { error, error_description }.',
    body: tokenRequest,
    form: true,
    errorFormat: 'oauth',
    response: {
      status: 200,
      description: '{ access_token, token_type: "Bearer", expires_in, scope }',
      schema: tokenAnswer,
    },
    errorStatuses: [400, 401, 413, 429],
  },
];

/** RFC 6749 §5.2 error bodies, which OAuth clients expect from a token endpoint. */
function oauthError(error: string, description: string, status: 400 | 401 | 413) {
  return Response.json(
    { error, error_description: description },
    {
      status,
      headers: {
        'cache-control': 'no-store',
        ...(status === 401 ? { 'www-authenticate': 'Basic realm="switchboard"' } : {}),
      },
    },
  );
}

/** A client-credentials request is a few hundred bytes; this endpoint answers anyone, so it reads little. */
const TOKEN_REQUEST_MAX_BYTES = 16 * 1024;

/** POST /oauth/token: client credentials → a short-lived signed access token. */
export function tokenEndpoint(services: Services): Hono<AppEnv> {
  const { config, apiClients, signingKeys, rateLimiter } = services;
  /** The 429 answer when one of `keys` is over the token limit; undefined when none is. */
  const consumeTokenLimit = async (keys: RateKey[]): Promise<Response | undefined> => {
    try {
      await rateLimiter.consume('token', keys);
      return undefined;
    } catch (error) {
      if (!isAppError(error) || error.code !== 'rate_limited') throw error;
      return Response.json(
        { error: 'rate_limited', error_description: error.message },
        { status: 429, headers: { 'cache-control': 'no-store', 'retry-after': retryAfterSeconds(error) ?? '1' } },
      );
    }
  };
  const app = new Hono<AppEnv>();
  app.post('/token', async (c) => {
    const type = c.req.header('content-type') ?? '';
    let fields: unknown = {};
    try {
      const text = await readBodyText(c.req.raw, TOKEN_REQUEST_MAX_BYTES);
      if (type.includes('application/json')) fields = JSON.parse(text);
      else fields = Object.fromEntries(new URLSearchParams(text));
    } catch (error) {
      if (isAppError(error) && error.code === 'payload_too_large') {
        return oauthError('invalid_request', `the body is larger than ${TOKEN_REQUEST_MAX_BYTES} bytes`, 413);
      }
      return oauthError('invalid_request', 'the body could not be parsed', 400);
    }
    const parsed = tokenRequest.safeParse(fields);
    if (!parsed.success) return oauthError('invalid_request', 'the body has fields of the wrong type', 400);
    let { client_id: clientId, client_secret: clientSecret } = parsed.data;
    const basic = c.req.header('authorization');
    if (basic?.startsWith('Basic ')) {
      const decoded = Buffer.from(basic.slice(6), 'base64').toString();
      const separator = decoded.indexOf(':');
      if (separator > 0) {
        // RFC 6749 §2.3.1: each half is application/x-www-form-urlencoded before base64, so '+' is a space.
        try {
          clientId = decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' '));
          clientSecret = decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' '));
        } catch {
          // The client authenticated with the Authorization header, and that failed: 401 (RFC 6749 §5.2).
          return oauthError('invalid_client', 'the Basic credentials are not validly encoded', 401);
        }
      }
    }
    // Every request counts against its address before anything is checked. The client id
    // counts only once its secret checked out: a stranger who knows an id (ids are no secrets)
    // must not spend that client's limit and lock its backend out, and guessing a 256-bit
    // secret needs no limit per id.
    const limited = await consumeTokenLimit([`ip:${clientAddress(c, config)}`]);
    if (limited) return limited;
    if (parsed.data.grant_type !== 'client_credentials') {
      return oauthError('unsupported_grant_type', 'only grant_type=client_credentials is supported', 400);
    }
    if (!clientId || !clientSecret)
      return oauthError('invalid_client', 'client_id and client_secret are required', 401);
    const client = await apiClients.verify(clientId, clientSecret);
    if (!client) return oauthError('invalid_client', 'the client credentials are not valid', 401);
    const limitedClient = await consumeTokenLimit([`client:${clientId}`]);
    if (limitedClient) return limitedClient;
    const expiresIn = config.accessTokenTtlSeconds;
    const accessToken = await signingKeys.sign(
      // `ver`: the client's token_version, so a secret rotation ends the tokens issued before it.
      { sub: clientId, scope: client.scope, ver: client.tokenVersion },
      { audience: managementAudience(config.publicUrl), issuer: config.publicUrl, expiresInSeconds: expiresIn },
    );
    return c.json(
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: expiresIn,
        scope: client.scope,
      } satisfies z.output<typeof tokenAnswer>,
      200,
      { 'cache-control': 'no-store' },
    );
  });
  return app;
}

/** Methods a `read` client may call; anything else changes state and needs `admin`. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every /api/v1 call needs a valid management access token whose client is still live: not
 * revoked, and not rotated since the token was issued (checked through a per-process cache
 * that every replica empties within a poll of the change feed). `read` tokens may only read.
 */
export function requireManagementToken(services: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { clientId, scope } = await verifyManagementToken(services, c.req.header('authorization'));
    if (scope !== 'admin' && !READ_METHODS.has(c.req.method.toUpperCase())) {
      throw new AppError(
        'forbidden',
        'this API client may only read (scope "read"); use an admin client to make changes',
      );
    }
    c.set('clientId', clientId);
    c.set('clientScope', scope);
    await next();
  };
}

/** For routes that even read more than a `read` client may see (other clients' details). */
export function requireAdmin(c: Context<AppEnv>): void {
  if (c.get('clientScope') !== 'admin') {
    throw new AppError('forbidden', 'this route needs an admin API client (scope "admin")');
  }
}
