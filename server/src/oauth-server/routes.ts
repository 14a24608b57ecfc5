import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv, Services } from '../context.js';
import { newSecret } from '../crypto/random.js';
import { AppError, isAppError } from '../errors.js';
import { readBodyText } from '../http/body.js';
import { clientAddress } from '../http/client-address.js';
import { AuthorizeRedirect, type BrowserProof, type ClientCredentials } from '../mcp-auth/authorization-server.js';
import { AuthorizeRefusal, OAuthError } from '../mcp-auth/oauth-error.js';
import { paramOf } from '../mcp-auth/oauth-params.js';
import { retryAfterSeconds } from '../rate-limits/rate-limiter.js';
import { consentConnectForm, consentDecisionForm, consentPageParams } from './forms.js';
import { consentPage, errorPage } from './pages.js';

/** Token, registration and revocation requests are small. */
const MAX_FORM_BYTES = 16 * 1024;
const COOKIE = 'sb_mcp_signin';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
/** Browser-based MCP clients (e.g. MCP Inspector) call these endpoints from other origins. */
const OPEN_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '600',
};

/**
 * Pages carry no script, and styles only with this response's nonce. No form-action: Chrome
 * applies it to the redirects after a submit, which go to the client's redirect URI and the
 * provider's consent, origins not known here.
 */
function pageHeaders(nonce: string): Record<string, string> {
  return {
    ...NO_STORE,
    'content-type': 'text/html; charset=UTF-8',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; img-src https:; base-uri 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
}

function oauthJson(error: OAuthError, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { ...NO_STORE, ...OPEN_CORS, ...extra };
  if (error.code === 'invalid_client') headers['www-authenticate'] = 'Basic realm="switchboard"';
  return Response.json(error.toJSON(), { status: error.status, headers });
}

async function readForm(c: Context): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'send the body as application/x-www-form-urlencoded');
  }
  try {
    return new URLSearchParams(await readBodyText(c.req.raw, MAX_FORM_BYTES));
  } catch (error) {
    if (isAppError(error) && error.code === 'payload_too_large') {
      throw new OAuthError('invalid_request', `the body is larger than ${MAX_FORM_BYTES} bytes`);
    }
    throw error;
  }
}

/** RFC 6749 §2.3.1: HTTP Basic (form-encoded id and secret) or the body, never both. */
function credentialsOf(c: Context, form: URLSearchParams): ClientCredentials {
  const header = c.req.header('authorization');
  const basic = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (basic?.[1]) {
    if (form.has('client_secret')) throw new OAuthError('invalid_request', 'use one client authentication method');
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    try {
      const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      const bodyId = form.get('client_id');
      if (bodyId !== null && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id differs');
      return { clientId, secret, method: 'basic' };
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new OAuthError('invalid_client', 'malformed Basic credentials');
    }
  }
  const secret = form.get('client_secret') ?? undefined;
  return { clientId: form.get('client_id') ?? undefined, secret, method: secret ? 'post' : 'none' };
}

const FAILURE_TITLES: Partial<Record<string, string>> = {
  auth_state_invalid: 'This sign-in is not known in this browser',
  auth_state_reused: 'This sign-in was already completed',
  auth_state_expired: 'This sign-in took too long',
  forbidden: 'This form is stale',
  not_found: 'Not found',
  provider_error: 'The sign-in could not be completed',
};

/**
 * The OAuth authorization server of the config URLs, for MCP clients: RFC 8414 metadata,
 * authorize (hand-off to the app's login page), the consent page, token, registration and
 * revocation. Protocol errors are RFC 6749 JSON; errors shown to people are pages.
 */
export function oauthServer(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const server = services.mcpAuthorizationServer;
  const secureCookie = new URL(services.config.publicUrl).protocol === 'https:';

  const refusalPage = (c: Context, status: number, title: string, message: string, detail?: string) => {
    const nonce = newSecret(16);
    return c.body(errorPage(nonce, title, message, detail), status as 400, pageHeaders(nonce));
  };
  const failure = (c: Context, error: unknown) => {
    if (error instanceof AppError && FAILURE_TITLES[error.code]) {
      return refusalPage(
        c,
        error.status,
        FAILURE_TITLES[error.code] as string,
        error.message,
        `Start again from your MCP client. (${error.code})`,
      );
    }
    throw error;
  };
  /** The sign-in cookie, and the consent URL's secret from the query (the page) or the form (its forms). */
  const browserOf = (c: Context, consentSecret: string | undefined): BrowserProof => ({
    cookie: getCookie(c, COOKIE),
    consentSecret,
  });

  // Per client address: the machine endpoints count against the token limit, the pages
  // people open against the connect-page limit (each try costs database writes).
  const limited =
    (rule: 'token' | 'connect'): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      try {
        await services.rateLimiter.consume(rule, [`ip:${clientAddress(c, services.config)}`]);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
        const retryAfter = retryAfterSeconds(error) ?? '1';
        if (rule === 'token') {
          return Response.json(
            { error: 'invalid_request', error_description: error.message },
            { status: 429, headers: { ...NO_STORE, ...OPEN_CORS, 'retry-after': retryAfter } },
          );
        }
        const nonce = newSecret(16);
        return c.body(
          errorPage(nonce, 'Too many attempts', 'Wait a minute, then start again from your MCP client.'),
          429,
          {
            ...pageHeaders(nonce),
            'retry-after': retryAfter,
          },
        );
      }
      await next();
    };
  for (const path of ['/mcp-oauth/token', '/mcp-oauth/register', '/mcp-oauth/revoke']) app.use(path, limited('token'));
  for (const path of ['/mcp-oauth/authorize', '/mcp-oauth/oidc/callback', '/mcp-oauth/consent/*']) {
    app.use(path, limited('connect'));
  }

  for (const path of [
    '/mcp-oauth/token',
    '/mcp-oauth/register',
    '/mcp-oauth/revoke',
    '/.well-known/oauth-authorization-server',
  ]) {
    app.options(path, () => new Response(null, { status: 204, headers: OPEN_CORS }));
  }

  app.get('/.well-known/oauth-authorization-server', (c) =>
    c.json(server.metadata(), 200, { ...OPEN_CORS, 'cache-control': 'max-age=300' }),
  );
  // RFC 8414 §3.1 path-inserted variants name other issuers (older clients try the MCP URL's
  // path first): not ours, answered so a browser sees the 404 and tries the next URL.
  app.options(
    '/.well-known/oauth-authorization-server/*',
    () => new Response(null, { status: 204, headers: OPEN_CORS }),
  );
  app.get('/.well-known/oauth-authorization-server/*', (c) =>
    c.json({ error: 'not_found', error_description: 'no authorization server at this issuer' }, 404, OPEN_CORS),
  );

  app.get('/mcp-oauth/authorize', async (c) => {
    try {
      const { loginUrl, browserSecret, requestId } = await server.authorize(new URL(c.req.url).searchParams);
      setCookie(c, COOKIE, browserSecret, {
        path: `/mcp-oauth/consent/${requestId}`,
        httpOnly: true,
        sameSite: 'Lax',
        secure: secureCookie,
        maxAge: 15 * 60,
      });
      return c.redirect(loginUrl, 302);
    } catch (error) {
      if (error instanceof AuthorizeRedirect) return c.redirect(error.location, 302);
      if (error instanceof AuthorizeRefusal) {
        return refusalPage(
          c,
          400,
          'This sign-in request is not valid',
          'The app that sent you here made a request Switchboard cannot accept, so you were not sent back to it.',
          `${error.code}: ${error.description}`,
        );
      }
      throw error;
    }
  });

  // The app's OpenID Connect issuer sends the browser back here (OIDC upstream), then on to consent.
  app.get('/mcp-oauth/oidc/callback', async (c) => {
    try {
      return c.redirect(await server.completeUpstream(new URL(c.req.url).searchParams), 302);
    } catch (error) {
      return failure(c, error);
    }
  });

  app.get('/mcp-oauth/consent/:id', async (c) => {
    try {
      const query = new URL(c.req.url).searchParams;
      const view = await server.consentView(
        c.req.param('id'),
        browserOf(c, paramOf(query, consentPageParams, 'consent_secret').value),
      );
      const nonce = newSecret(16);
      return c.body(consentPage(view, nonce), 200, pageHeaders(nonce));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.post('/mcp-oauth/consent/:id/connect', async (c) => {
    try {
      const form = new URLSearchParams(await readBodyText(c.req.raw, MAX_FORM_BYTES));
      const link = await server.connectLink(
        c.req.param('id'),
        browserOf(c, paramOf(form, consentConnectForm, 'consent_secret').value),
        paramOf(form, consentConnectForm, 'csrf').value,
        paramOf(form, consentConnectForm, 'connection').value ?? '',
      );
      return c.redirect(link, 303);
    } catch (error) {
      return failure(c, error);
    }
  });

  app.post('/mcp-oauth/consent/:id', async (c) => {
    const id = c.req.param('id');
    let browser: BrowserProof = browserOf(c, undefined);
    try {
      const form = new URLSearchParams(await readBodyText(c.req.raw, MAX_FORM_BYTES));
      browser = browserOf(c, paramOf(form, consentDecisionForm, 'consent_secret').value);
      const decision = paramOf(form, consentDecisionForm, 'decision').value;
      if (decision === undefined) throw new AppError('forbidden', 'choose allow or deny');
      const csrf = paramOf(form, consentDecisionForm, 'csrf').value;
      const location = await server.decide(id, browser, csrf, decision === 'allow');
      return c.redirect(location, 303);
    } catch (error) {
      if (error instanceof AppError && error.code === 'failed_precondition') {
        const view = await server.consentView(id, browser);
        const nonce = newSecret(16);
        return c.body(consentPage(view, nonce, error.message), 409, pageHeaders(nonce));
      }
      return failure(c, error);
    }
  });

  app.post('/mcp-oauth/token', async (c) => {
    try {
      const form = await readForm(c);
      const tokens = await server.token(form, credentialsOf(c, form));
      return c.json(tokens, 200, { ...NO_STORE, ...OPEN_CORS });
    } catch (error) {
      if (error instanceof OAuthError) return oauthJson(error);
      throw error;
    }
  });

  app.post('/mcp-oauth/revoke', async (c) => {
    try {
      const form = await readForm(c);
      await server.revokeToken(form, credentialsOf(c, form));
      return c.body(null, 200, { ...NO_STORE, ...OPEN_CORS });
    } catch (error) {
      if (error instanceof OAuthError) return oauthJson(error);
      throw error;
    }
  });

  app.post('/mcp-oauth/register', async (c) => {
    try {
      const text = await readBodyText(c.req.raw, MAX_FORM_BYTES).catch(() => {
        throw new OAuthError('invalid_client_metadata', `the body is larger than ${MAX_FORM_BYTES} bytes`);
      });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new OAuthError('invalid_client_metadata', 'the body is not JSON');
      }
      const registered = await services.mcpOAuthClients.register(body);
      return c.json(registered, 201, { ...NO_STORE, ...OPEN_CORS });
    } catch (error) {
      if (error instanceof OAuthError) {
        // Registration turned off: the endpoint is not there (and not in the metadata).
        if (!services.config.mcpOAuth.registration) return c.json(error.toJSON(), 404, OPEN_CORS);
        return oauthJson(error);
      }
      throw error;
    }
  });

  return app;
}
