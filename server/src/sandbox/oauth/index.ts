import { type Context, Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { sandboxBaseUrl } from '../base-url.js';
import type { SandboxUser } from '../context.js';
import { oauthError } from '../google-errors.js';
import { IDENTITY_SCOPES, isKnownScopeSpelling, parseScopeParam } from '../scopes.js';
import type { SandboxState } from '../state.js';
import type { AuthorizationRequest, TokenResponse } from './authorization-server.js';
import { renderConsentPage, renderErrorPage } from './pages.js';

const AUTHORIZE_PATH = '/o/oauth2/v2/auth';
const PICTURE = 'https://lh3.googleusercontent.com/a/default-user=s96-c';
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function errorPage(c: Context, status: 400 | 401, error: string, description: string): Response {
  return c.html(renderErrorPage(error, description), status);
}

function redirectTo(redirectUri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { location: url.toString(), ...NO_STORE } });
}

function isAcceptableRedirectUri(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.hash === '' && url.protocol !== 'javascript:' && url.protocol !== 'data:';
}

/** Reads a form (or JSON) body into a flat map; repeated fields keep every value. */
async function readForm(c: Context): Promise<Map<string, string[]>> {
  const fields = new Map<string, string[]>();
  const add = (key: string, value: string) => fields.set(key, [...(fields.get(key) ?? []), value]);
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/json')) {
    const body: unknown = await c.req.json().catch(() => ({}));
    if (body && typeof body === 'object') {
      for (const [key, value] of Object.entries(body)) if (typeof value === 'string') add(key, value);
    }
  } else {
    const text = await c.req.text();
    for (const [key, value] of new URLSearchParams(text)) add(key, value);
  }
  for (const [key, value] of new URL(c.req.url).searchParams) if (!fields.has(key)) add(key, value);
  return fields;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
  const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
  return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
}

function userinfoOf(user: SandboxUser, scopes: string[]) {
  const email = scopes.includes(IDENTITY_SCOPES[1] ?? '');
  const profile = scopes.includes(IDENTITY_SCOPES[2] ?? '');
  return {
    sub: user.sub,
    ...(profile
      ? { name: user.name, given_name: user.givenName, family_name: user.familyName, picture: PICTURE }
      : { picture: PICTURE }),
    ...(email ? { email: user.email, email_verified: true } : {}),
  };
}

/** Google's OAuth 2.0 and OpenID endpoints, at Google's paths. */
export function createOAuthRoutes(state: SandboxState, allowRedirectUri?: (uri: URL) => boolean): Hono {
  const app = new Hono();

  function finishConsent(request: AuthorizationRequest, user: SandboxUser, scopes: string[]): Response {
    const code = state.oauth.issueAuthorizationCode(request, user, scopes);
    const granted = request.includeGrantedScopes
      ? [...new Set([...state.oauth.grantedScopes(user, request.clientId), ...scopes])]
      : scopes;
    return redirectTo(request.redirectUri, {
      state: request.state,
      code,
      scope: granted.join(' '),
      authuser: '0',
      prompt: 'consent',
    });
  }

  app.get(AUTHORIZE_PATH, (c) => {
    const q = (name: string) => c.req.query(name) || undefined;
    const clientId = q('client_id');
    if (!clientId) return errorPage(c, 401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = q('redirect_uri');
    if (!redirectUri || !isAcceptableRedirectUri(redirectUri)) {
      return errorPage(c, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
    }
    const registered = state.oauth.registeredClient(clientId);
    // Only a registered or allowed URI may receive the browser: otherwise this is an open redirect.
    const allowed = registered?.redirectUris
      ? registered.redirectUris.includes(redirectUri)
      : (allowRedirectUri?.(new URL(redirectUri)) ?? true);
    if (!allowed) {
      return errorPage(
        c,
        400,
        'redirect_uri_mismatch',
        `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${redirectUri}`,
      );
    }
    const stateParam = c.req.query('state');
    // From here on the redirect URI is trusted, so errors travel back to it (RFC 6749 §4.1.2.1).
    if (q('response_type') !== 'code') {
      return redirectTo(redirectUri, { error: 'unsupported_response_type', state: stateParam });
    }
    const scopes = parseScopeParam(q('scope'));
    if (scopes.length === 0) return errorPage(c, 400, 'invalid_request', 'Missing required parameter: scope');
    const unknown = scopes.filter((scope) => !isKnownScopeSpelling(scope));
    if (unknown.length > 0) {
      return errorPage(
        c,
        400,
        'invalid_scope',
        `Some requested scopes were invalid. {invalid=[${unknown.join(', ')}]}`,
      );
    }
    const codeChallenge = q('code_challenge');
    const method = q('code_challenge_method') ?? (codeChallenge ? 'plain' : undefined);
    if (codeChallenge !== undefined && !CODE_CHALLENGE.test(codeChallenge)) {
      return errorPage(c, 400, 'invalid_request', 'Invalid code_challenge.');
    }
    if (method !== undefined && ((method !== 'S256' && method !== 'plain') || codeChallenge === undefined)) {
      return errorPage(c, 400, 'invalid_request', 'Invalid code_challenge_method or missing code_challenge.');
    }
    const accessType = q('access_type') ?? 'online';
    if (accessType !== 'online' && accessType !== 'offline') {
      return errorPage(c, 400, 'invalid_request', `Invalid access_type: ${accessType}`);
    }
    const request: AuthorizationRequest = {
      clientId,
      redirectUri,
      scopes,
      state: stateParam,
      codeChallenge,
      codeChallengeMethod: method,
      offline: accessType === 'offline',
      includeGrantedScopes: q('include_granted_scopes') === 'true',
      loginHint: q('login_hint'),
      nonce: q('nonce'),
    };
    const hinted = request.loginHint ? state.findUser(request.loginHint) : undefined;

    const auto = q('sandbox_auto_consent');
    if (auto === 'deny') return redirectTo(redirectUri, { error: 'access_denied', state: stateParam });
    if (auto === 'allow') {
      const user = hinted ?? (request.loginHint ? undefined : state.users[0]);
      if (!user) return errorPage(c, 400, 'invalid_request', `No sandbox user ${request.loginHint}`);
      return finishConsent(request, user, scopes);
    }
    if (q('prompt')?.split(' ').includes('none')) {
      if (!hinted) return redirectTo(redirectUri, { error: 'interaction_required', state: stateParam });
      const granted = state.oauth.grantedScopes(hinted, clientId);
      if (!scopes.every((scope) => granted.includes(scope))) {
        return redirectTo(redirectUri, { error: 'consent_required', state: stateParam });
      }
      return finishConsent(request, hinted, scopes);
    }

    const requestId = state.oauth.savePendingAuthorization(request);
    const base = sandboxBaseUrl(c, AUTHORIZE_PATH);
    return c.html(
      renderConsentPage({
        action: `${base}${AUTHORIZE_PATH}/decision`,
        requestId,
        clientId,
        redirectUri,
        users: state.users,
        selectedEmail: hinted?.email,
        scopes,
      }),
      200,
      NO_STORE,
    );
  });

  app.post(`${AUTHORIZE_PATH}/decision`, async (c) => {
    const form = await readForm(c);
    const request = state.oauth.takePendingAuthorization(form.get('request')?.[0] ?? '');
    if (!request) return errorPage(c, 400, 'invalid_request', 'This sign-in request expired or was already used.');
    if (form.get('decision')?.[0] !== 'allow') {
      return redirectTo(request.redirectUri, { error: 'access_denied', state: request.state });
    }
    const user = state.findUser(form.get('user')?.[0] ?? '');
    if (!user) return errorPage(c, 400, 'invalid_request', 'Choose an account.');
    // Granular consent: the user may untick scopes; Google then grants only the ticked ones.
    const ticked = form.get('scope') ?? [];
    const scopes = request.scopes.filter((scope) => ticked.includes(scope));
    if (scopes.length === 0) return redirectTo(request.redirectUri, { error: 'access_denied', state: request.state });
    return finishConsent(request, user, scopes);
  });

  // The OpenID Connect face: an id_token signed with this sandbox's own RS256 key (JWKS at
  // /oauth2/v3/certs). Unlike Google, only for a code whose request carried a nonce: clients
  // that ask no OIDC question (Switchboard's connect flow) keep the plain answers they were
  // built against.
  // One key per generation (SandboxState.rotateIdTokenKey), made when first needed.
  const idTokenKeys = new Map<number, ReturnType<typeof generateKeyPair>>();
  const idTokenKey = (generation: number) => {
    let key = idTokenKeys.get(generation);
    if (!key) {
      key = generateKeyPair('RS256', { extractable: true });
      idTokenKeys.set(generation, key);
    }
    return key;
  };
  const idTokenKid = (generation: number) => (generation === 1 ? 'sandbox-rs256' : `sandbox-rs256-${generation}`);
  const idTokenFor = async (
    c: Context,
    who: ReturnType<typeof state.oauth.peekCode>,
  ): Promise<{ id_token?: string }> => {
    if (!who?.nonce || !who.scopes.includes('openid')) return {};
    const issuer = sandboxBaseUrl(c, '/token');
    const now = Math.floor(state.clock.now() / 1000);
    const withEmail = who.scopes.includes('email') || who.scopes.includes(IDENTITY_SCOPES[1] ?? '');
    const withProfile = who.scopes.includes('profile') || who.scopes.includes(IDENTITY_SCOPES[2] ?? '');
    const token = await new SignJWT({
      nonce: who.nonce,
      azp: who.clientId,
      ...(withEmail ? { email: who.user.email, email_verified: true } : {}),
      ...(withProfile ? { name: who.user.name, given_name: who.user.givenName, family_name: who.user.familyName } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: idTokenKid(state.idTokenKeyGeneration), typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(who.user.sub)
      .setAudience(who.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign((await idTokenKey(state.idTokenKeyGeneration)).privateKey);
    return { id_token: token };
  };
  app.get('/oauth2/v3/certs', async (c) => {
    // The current key and the one before it, as Google publishes its keys around a rollover.
    const current = state.idTokenKeyGeneration;
    const generations = current > 1 ? [current, current - 1] : [current];
    const keys = await Promise.all(
      generations.map(async (generation) => ({
        ...(await exportJWK((await idTokenKey(generation)).publicKey)),
        kid: idTokenKid(generation),
        alg: 'RS256',
        use: 'sig',
      })),
    );
    return c.json({ keys }, 200, {
      'cache-control': 'public, max-age=3600',
    });
  });

  app.post('/token', async (c) => {
    const form = await readForm(c);
    const field = (name: string) => form.get(name)?.[0] || undefined;
    const grantType = field('grant_type') ?? '';
    const credential = grantType === 'authorization_code' ? field('code') : field('refresh_token');
    state.oauth.countTokenCall(
      grantType || '(none)',
      credential ? state.oauth.userOfCredential(credential) : undefined,
    );

    const basic = basicCredentials(c.req.header('authorization'));
    const clientId = basic?.id ?? field('client_id');
    const clientSecret = basic?.secret ?? field('client_secret');
    if (!clientId) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
    if (clientSecret === undefined) return oauthError(400, 'invalid_request', 'client_secret is missing.');
    if (!state.oauth.authenticateClient(clientId, clientSecret))
      return oauthError(401, 'invalid_client', 'Unauthorized');

    let result: TokenResponse | { error: string; description: string };
    let identity: ReturnType<typeof state.oauth.peekCode>;
    if (grantType === 'authorization_code') {
      const code = field('code');
      if (!code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
      identity = state.oauth.peekCode(code);
      result = state.oauth.exchangeCode({
        code,
        clientId,
        redirectUri: field('redirect_uri'),
        codeVerifier: field('code_verifier'),
      });
    } else if (grantType === 'refresh_token') {
      const refreshToken = field('refresh_token');
      if (!refreshToken) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
      result = state.oauth.refresh({ refreshToken, clientId, scopes: parseScopeParam(field('scope')) });
    } else {
      return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    }
    if ('error' in result) return oauthError(400, result.error, result.description);
    return c.json({ ...result, ...(await idTokenFor(c, identity)) }, 200, NO_STORE);
  });

  const revoke = async (c: Context) => {
    const form = await readForm(c);
    const token = form.get('token')?.[0];
    if (!token || !state.oauth.revokeToken(token)) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    return c.json({}, 200, NO_STORE);
  };
  app.post('/revoke', revoke);
  app.get('/revoke', revoke);
  app.post('/o/oauth2/revoke', revoke);
  app.get('/o/oauth2/revoke', revoke);

  const bearer = (c: Context) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    return match?.[1] ?? c.req.query('access_token');
  };
  const userinfoUnauthorized = (c: Context) =>
    c.json({ error: 'invalid_request', error_description: 'Invalid Credentials' }, 401, {
      'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
    });

  const openIdUserinfo = (c: Context) => {
    const token = bearer(c);
    const principal = token ? state.oauth.principalOf(token) : undefined;
    if (!principal) return userinfoUnauthorized(c);
    return c.json(userinfoOf(principal.user, principal.scopes));
  };
  for (const path of ['/v1/userinfo', '/oauth2/v3/userinfo']) {
    app.get(path, openIdUserinfo);
    app.post(path, openIdUserinfo);
  }
  app.get('/oauth2/v2/userinfo', (c) => {
    const token = bearer(c);
    const principal = token ? state.oauth.principalOf(token) : undefined;
    if (!principal) return userinfoUnauthorized(c);
    const info = userinfoOf(principal.user, principal.scopes);
    const { sub, email_verified, ...rest } = info as ReturnType<typeof userinfoOf> & { email_verified?: boolean };
    return c.json({ id: sub, ...rest, ...(email_verified ? { verified_email: true } : {}) });
  });

  const tokeninfo = async (c: Context) => {
    const form = await readForm(c);
    const token = form.get('access_token')?.[0];
    const principal = token ? state.oauth.principalOf(token) : undefined;
    if (!principal) return c.json({ error: 'invalid_token', error_description: 'Invalid Value' }, 400);
    const expiresIn = Math.max(0, Math.floor((principal.expiresAt - state.clock.now()) / 1000));
    return c.json({
      azp: principal.clientId,
      aud: principal.clientId,
      sub: principal.user.sub,
      scope: principal.scopes.join(' '),
      exp: String(Math.floor(principal.expiresAt / 1000)),
      expires_in: String(expiresIn),
      ...(principal.scopes.includes(IDENTITY_SCOPES[1] ?? '')
        ? { email: principal.user.email, email_verified: 'true' }
        : {}),
      access_type: 'offline',
    });
  };
  app.get('/oauth2/v3/tokeninfo', tokeninfo);
  app.post('/oauth2/v3/tokeninfo', tokeninfo);

  app.get('/.well-known/openid-configuration', (c) => {
    const base = sandboxBaseUrl(c, '/.well-known/openid-configuration');
    return c.json({
      issuer: base,
      authorization_endpoint: `${base}${AUTHORIZE_PATH}`,
      token_endpoint: `${base}/token`,
      userinfo_endpoint: `${base}/v1/userinfo`,
      revocation_endpoint: `${base}/revoke`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      scopes_supported: ['openid', 'email', 'profile'],
      jwks_uri: `${base}/oauth2/v3/certs`,
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'iss', 'name', 'nonce', 'sub'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      code_challenge_methods_supported: ['plain', 'S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
  });

  return app;
}
