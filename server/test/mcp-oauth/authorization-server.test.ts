import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hashSecret } from '../../src/crypto/random.js';
import { type ManualClock, manualClock } from '../support/clock.js';
import { IN_PROCESS_SANDBOX_URL } from '../support/sandbox.js';
import { type Stack, startStack } from '../support/stack.js';
import { formFields, TestBrowser } from './browser.js';
import { expectFixationRefused } from './fixation.js';
import { mcpPing } from './mcp-ping.js';
import { pkce } from './pkce.js';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const LOGIN_URL = 'https://app.example/login';
const MINUTE = 60_000;
const NO_RATE_LIMITS = { SWITCHBOARD_RATE_LIMIT_TOKEN: 'off', SWITCHBOARD_RATE_LIMIT_CONNECT: 'off' };

/** A token endpoint answer: tokens, or an RFC 6749 error. */
interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  scope?: string;
  error?: string;
}

/**
 * The authorization server's own rules, step by step and in process, with a clock moved by hand:
 * what binds a code, a refresh token and a sign-in request, to whom and for how long. The
 * end-to-end files (sign-in, ways-in, oidc-upstream) run real clients through the happy paths.
 */
describe('the MCP authorization server’s checks', () => {
  let clock: ManualClock;
  let stack: Stack;
  let configUrl: string;
  let otherConfigUrl: string;
  let clientId: string;

  beforeAll(async () => {
    clock = manualClock();
    // The clock stands still, so per-minute rate limits would never refill: off (ways-in tests them).
    stack = await startStack({ clock, env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: LOGIN_URL, ...NO_RATE_LIMITS } });
    // Configs without connections: consent is ready at once, nothing to connect first.
    const configs = stack.services.mcpConfigs;
    const config = await configs.create({ name: 'checked', description: '', mappings: [] });
    const other = await configs.create({ name: 'elsewhere', description: '', mappings: [] });
    configUrl = `${stack.url}/mcp/c/${config.id}`;
    otherConfigUrl = `${stack.url}/mcp/c/${other.id}`;
    clientId = await register('Checked Client');
  });
  afterAll(() => stack?.close());

  async function register(name: string): Promise<string> {
    const response = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { client_id: string }).client_id;
  }

  function authorizeUrl(params: Record<string, string | string[] | undefined>): URL {
    const url = new URL(`${stack.url}/mcp-oauth/authorize`);
    for (const [key, value] of Object.entries(params)) {
      for (const one of value === undefined ? [] : [value].flat()) url.searchParams.append(key, one);
    }
    return url;
  }

  /** The authorize request as a client sends it, with `overrides` (undefined drops one). */
  function clientAuthorizeUrl(challenge: string, overrides: Record<string, string | string[] | undefined> = {}) {
    return authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: configUrl,
      state: 'st-1',
      ...overrides,
    });
  }

  /** Authorize in `browser`: the app's login URL with the hand-off, or the refusal. */
  async function startSignIn(overrides: Record<string, string | string[] | undefined> = {}) {
    const { verifier, challenge } = pkce();
    const browser = new TestBrowser(stack.fetch);
    const response = await browser.request(clientAuthorizeUrl(challenge, overrides));
    return { browser, verifier, response, location: new URL(response.headers.get('location') ?? 'about:blank') };
  }

  function verifyUser(handoff: string | null, identifier: string) {
    return stack.api<{ post_user_verify_redirect_url: string; error?: { code: string } }>(
      'POST',
      '/api/v1/mcp/oauth/user/verify',
      { auth_request_id: handoff, identifier },
    );
  }

  /** Authorize, the app's answer for `identifier`, and the consent page in the same browser. */
  async function toConsent(identifier = 'john-doe', overrides: Record<string, string | string[] | undefined> = {}) {
    const started = await startSignIn(overrides);
    expect(started.response.status).toBe(302);
    const verified = await verifyUser(started.location.searchParams.get('auth_request_id'), identifier);
    expect(verified.status).toBe(200);
    const consentUrl = new URL(verified.body.post_user_verify_redirect_url);
    const page = await started.browser.request(consentUrl);
    expect(page.status).toBe(200);
    return { ...started, consentUrl, html: await page.text() };
  }

  async function decide(
    browser: TestBrowser,
    consentUrl: URL,
    html: string,
    decision: 'allow' | 'deny',
    change: Record<string, string> = {},
  ) {
    return browser.request(`${consentUrl.origin}${consentUrl.pathname}`, {
      form: { ...formFields(html, consentUrl.pathname, ['decision', decision]), ...change },
    });
  }

  /** Through consent to the code at the client's redirect URI. */
  async function codeFor(identifier = 'john-doe', overrides: Record<string, string | string[] | undefined> = {}) {
    const consent = await toConsent(identifier, overrides);
    const decided = await decide(consent.browser, consent.consentUrl, consent.html, 'allow');
    expect(decided.status).toBe(303);
    const callback = new URL(decided.headers.get('location') ?? '');
    return { ...consent, callback, code: callback.searchParams.get('code') as string };
  }

  async function token(form: Record<string, string>) {
    const response = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as TokenAnswer };
  }

  function exchangeOf(signedIn: { code: string; verifier: string }) {
    return {
      grant_type: 'authorization_code',
      code: signedIn.code,
      code_verifier: signedIn.verifier,
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
    };
  }

  /** A whole sign-in: the token response and the refresh form for it. */
  async function tokensFor(identifier = 'john-doe', overrides: Record<string, string | string[] | undefined> = {}) {
    const signedIn = await codeFor(identifier, overrides);
    const issued = await token(exchangeOf(signedIn));
    expect(issued.status).toBe(200);
    return issued.body;
  }

  /** The grant a code was issued for (the clock stands still, so the newest grant is not known by its time). */
  async function grantOfCode(code: string): Promise<string> {
    const row = await stack.db.db
      .selectFrom('mcp_oauth_codes')
      .select('grant_id')
      .where('code_hash', '=', hashSecret(code))
      .executeTakeFirstOrThrow();
    return row.grant_id;
  }

  async function ping(accessToken: string, url = configUrl): Promise<number> {
    return (await mcpPing(stack.fetch, url, accessToken)).status;
  }

  it('publishes its RFC 8414 metadata', async () => {
    const response = await stack.fetch(`${stack.url}/.well-known/oauth-authorization-server`);
    expect(await response.json()).toEqual({
      issuer: stack.url,
      authorization_endpoint: `${stack.url}/mcp-oauth/authorize`,
      token_endpoint: `${stack.url}/mcp-oauth/token`,
      revocation_endpoint: `${stack.url}/mcp-oauth/revoke`,
      registration_endpoint: `${stack.url}/mcp-oauth/register`,
      jwks_uri: `${stack.url}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('exchanges a code only for the client it was issued to, within 60 seconds', async () => {
    const other = await register('Other Client');
    const signedIn = await codeFor();
    expect(await token({ ...exchangeOf(signedIn), client_id: other })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the authorization code was issued to another client' },
    });
    expect(Object.fromEntries(signedIn.callback.searchParams)).toMatchObject({ state: 'st-1', iss: stack.url });
    expect(signedIn.location.searchParams.get('client_name')).toBe('Checked Client');
    // The refusal did not spend the code: its own client still gets tokens with it.
    clock.advance(MINUTE - 1);
    const issued = await token(exchangeOf(signedIn));
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    expect(issued.body.refresh_token).toMatch(/^mcprt_/);
    expect(decodeJwt(issued.body.access_token)).toMatchObject({
      sub: 'john-doe',
      client_id: clientId,
      aud: configUrl,
      iss: stack.url,
    });
    expect(await ping(issued.body.access_token)).toBe(200);

    const late = await codeFor();
    clock.advance(MINUTE);
    expect(await token(exchangeOf(late))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the authorization code has expired' },
    });
  });

  it('refuses a code without its verifier, its redirect URI or the resource it was for', async () => {
    const signedIn = await codeFor();
    const exchange = exchangeOf(signedIn);
    const { redirect_uri: _uri, ...withoutRedirect } = exchange;
    const refusals: [Record<string, string>, string][] = [
      [{ ...exchange, code_verifier: '' }, 'invalid_request'],
      [{ ...exchange, code: '' }, 'invalid_request'],
      [{ ...exchange, code: 'not-a-code' }, 'invalid_grant'],
      [withoutRedirect, 'invalid_grant'],
      [{ ...exchange, code_verifier: pkce().verifier }, 'invalid_grant'],
      [{ ...exchange, resource: otherConfigUrl }, 'invalid_target'],
      [{ ...exchange, grant_type: 'password' }, 'unsupported_grant_type'],
    ];
    for (const [form, error] of refusals) {
      expect([form, (await token(form)).body.error]).toEqual([form, error]);
    }
    const resource = new URLSearchParams({ ...exchange });
    resource.append('resource', configUrl);
    resource.append('resource', configUrl);
    const twice = await stack.fetch(`${stack.url}/mcp-oauth/token`, { method: 'POST', body: resource });
    expect(await twice.json()).toMatchObject({ error: 'invalid_target' });
    // None of them spent the code.
    expect((await token({ ...exchange, resource: configUrl })).status).toBe(200);
  });

  it('revokes the grant of a spent code presented again, by any client', async () => {
    const signedIn = await codeFor();
    const issued = await token(exchangeOf(signedIn));
    expect(await ping(issued.body.access_token)).toBe(200);
    const other = await register('Code Thief');
    expect(await token({ ...exchangeOf(signedIn), client_id: other })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await ping(issued.body.access_token)).toBe(401);
  });

  it('issues no tokens for a code whose grant was revoked before the exchange', async () => {
    const signedIn = await codeFor();
    const grantId = await grantOfCode(signedIn.code);
    expect((await stack.api('POST', `/api/v1/mcp/oauth/grants/${grantId}:revoke`)).status).toBe(200);
    expect(await token(exchangeOf(signedIn))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the grant was revoked' },
    });
  });

  it('rotates a refresh token for its own client and resource, until it expires', async () => {
    const first = await tokensFor();
    const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
      token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
    const other = await register('Refresh Thief');
    expect(await refresh(first.refresh_token, { client_id: other })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the refresh token is not valid' },
    });
    expect(await refresh(first.refresh_token, { resource: otherConfigUrl })).toMatchObject({
      status: 400,
      body: { error: 'invalid_target' },
    });
    expect((await refresh('')).body.error).toBe('invalid_request');
    // Neither refusal spent it, nor ended the grant.
    const second = await refresh(first.refresh_token, { resource: configUrl });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.body.access_token)).toMatchObject({ sub: 'john-doe', aud: configUrl });

    // 30 days by default, to the millisecond.
    clock.advance(30 * 86_400_000 - 1);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    clock.advance(30 * 86_400_000);
    expect(await refresh(third.body.refresh_token)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the refresh token has expired' },
    });
  });

  it('refuses the refresh tokens of a revoked grant without revoking anything else', async () => {
    const kept = await tokensFor();
    const ended = await tokensFor();
    const revoked = await stack.fetch(`${stack.url}/mcp-oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: ended.access_token, client_id: clientId }),
    });
    expect(revoked.status).toBe(200);
    expect(await ping(ended.access_token)).toBe(401);
    expect(
      await token({ grant_type: 'refresh_token', refresh_token: ended.refresh_token, client_id: clientId }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'the grant was revoked' } });
    expect(await ping(kept.access_token)).toBe(200);
  });

  it('lets a client revoke only its own grants, and answers any other token the same way', async () => {
    const tokens = await tokensFor();
    const other = await register('Revoking Stranger');
    for (const presented of [tokens.refresh_token, tokens.access_token, 'not-a-token', 'a.b.c']) {
      const response = await stack.fetch(`${stack.url}/mcp-oauth/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ token: presented, client_id: other }),
      });
      expect(response.status).toBe(200);
    }
    expect(await ping(tokens.access_token)).toBe(200);
    // Its own client's refresh token ends the grant, access token included.
    const own = await stack.fetch(`${stack.url}/mcp-oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.refresh_token, client_id: clientId }),
    });
    expect(own.status).toBe(200);
    expect(await ping(tokens.access_token)).toBe(401);
    expect(await ping('not-a-token')).toBe(401);
    const missing = await stack.fetch(`${stack.url}/mcp-oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: clientId }),
    });
    expect(await missing.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('takes the app’s answer once, within 15 minutes of the authorize request', async () => {
    const once = await startSignIn();
    const handoff = once.location.searchParams.get('auth_request_id');
    expect((await verifyUser(handoff, 'john-doe')).status).toBe(200);
    expect(await verifyUser(handoff, 'mallory')).toMatchObject({
      status: 404,
      body: { error: { code: 'user_verification_used' } },
    });
    expect((await verifyUser('unknown', 'john-doe')).body).toMatchObject({
      error: { code: 'user_verification_invalid' },
    });

    const inTime = await startSignIn();
    clock.advance(15 * MINUTE - 1);
    expect((await verifyUser(inTime.location.searchParams.get('auth_request_id'), 'john-doe')).status).toBe(200);
    const late = await startSignIn();
    clock.advance(15 * MINUTE);
    expect((await verifyUser(late.location.searchParams.get('auth_request_id'), 'john-doe')).body).toMatchObject({
      error: { code: 'user_verification_expired' },
    });
  });

  it('shows consent only within 15 minutes, and refuses a wrong consent secret or form token', async () => {
    const consent = await toConsent();
    const path = `${consent.consentUrl.origin}${consent.consentUrl.pathname}`;
    // A stranger who knows only the request's address can neither see it nor cancel it.
    const stranger = await new TestBrowser(stack.fetch).request(path);
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).not.toContain('another browser');
    expect((await consent.browser.request(consent.consentUrl)).status).toBe(200);
    const wrongSecret = await consent.browser.request(`${path}?consent_secret=${'x'.repeat(43)}`);
    expect(wrongSecret.status).toBe(400);
    expect(await wrongSecret.text()).toContain('auth_state_invalid');
    const wrongCsrf = await decide(consent.browser, consent.consentUrl, consent.html, 'allow', { csrf: 'forged' });
    expect(wrongCsrf.status).toBe(403);
    const noSecret = await decide(consent.browser, consent.consentUrl, consent.html, 'allow', { consent_secret: '' });
    expect(noSecret.status).toBe(400);
    clock.advance(15 * MINUTE);
    const late = await consent.browser.request(consent.consentUrl);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('auth_state_expired');
  });

  it('sends a denial back with the state, and takes no second decision', async () => {
    const consent = await toConsent();
    const denied = await decide(consent.browser, consent.consentUrl, consent.html, 'deny');
    expect(denied.status).toBe(303);
    const location = new URL(denied.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'st-1',
      iss: stack.url,
    });
    expect(location.searchParams.get('code')).toBeNull();
    const again = await decide(consent.browser, consent.consentUrl, consent.html, 'allow');
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('auth_state_reused');
    const page = await consent.browser.request(consent.consentUrl);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('auth_state_reused');

    const stateless = await toConsent('john-doe', { state: undefined });
    const deniedStateless = await decide(stateless.browser, stateless.consentUrl, stateless.html, 'deny');
    expect(new URL(deniedStateless.headers.get('location') ?? '').searchParams.has('state')).toBe(false);
  });

  it('lets only the browser that started a sign-in and came back from the app consent to it', async () => {
    const consentUrlOf = async (started: Awaited<ReturnType<typeof startSignIn>>) =>
      new URL(
        (await verifyUser(started.location.searchParams.get('auth_request_id'), 'john-doe')).body
          .post_user_verify_redirect_url,
      );
    // The attacker starts the sign-in (its cookie); the app's answer sends john-doe's browser back.
    const attacker = await startSignIn();
    const sentBack = await consentUrlOf(attacker);
    await expectFixationRefused(
      stack.url,
      sentBack.pathname,
      { attacker: attacker.browser, victim: new TestBrowser(stack.fetch) },
      sentBack,
      'john-doe',
    );
    const unknown = await attacker.browser.request(`${stack.url}/mcp-oauth/consent/mar_unknown`);
    expect(unknown.status).toBe(400);
  });

  it('carries the requested scope into the token response, and no state when none was sent', async () => {
    const signedIn = await codeFor('john-doe', { scope: 'mcp:tools', state: undefined });
    expect(signedIn.callback.searchParams.has('state')).toBe(false);
    expect(signedIn.callback.searchParams.get('iss')).toBe(stack.url);
    const issued = await token(exchangeOf(signedIn));
    expect(issued.body.scope).toBe('mcp:tools');
    const plain = await tokensFor();
    expect(plain.scope).toBeUndefined();
  });

  it('spends a code, a refresh token, the app’s answer and a decision once under concurrent use', async () => {
    const statuses = (responses: { status: number }[]) => responses.map((r) => r.status).sort();

    const started = await startSignIn();
    const handoff = started.location.searchParams.get('auth_request_id');
    // The app's backend calls the service (no HTTP hop), so both reads come before either write.
    const server = stack.services.mcpAuthorizationServer;
    const answers = await Promise.allSettled([
      server.verifyUser(handoff as string, 'john-doe'),
      server.verifyUser(handoff as string, 'mallory'),
    ]);
    expect(answers.map((a) => (a.status === 'rejected' ? a.reason.code : a.status)).sort()).toEqual([
      'fulfilled',
      'user_verification_used',
    ]);

    const consent = await toConsent();
    const decisions = await Promise.all(
      [1, 2].map(() => decide(consent.browser, consent.consentUrl, consent.html, 'allow')),
    );
    expect(statuses(decisions)).toEqual([303, 400]);

    const signedIn = await codeFor();
    const exchanges = await Promise.all([token(exchangeOf(signedIn)), token(exchangeOf(signedIn))]);
    expect(statuses(exchanges)).toEqual([200, 400]);
    // The loser revoked the grant: a code that two parties hold is not trusted (RFC 6749 §4.1.2).
    const issued = exchanges.find((e) => e.status === 200)?.body as TokenAnswer;
    expect(await ping(issued.access_token)).toBe(401);

    const tokens = await tokensFor();
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId };
    const refreshes = await Promise.all([token(refresh), token(refresh)]);
    expect(statuses(refreshes)).toEqual([200, 400]);
    const rotated = refreshes.find((r) => r.status === 200)?.body as TokenAnswer;
    expect(await ping(rotated.access_token)).toBe(401);
  });

  it('lists a user’s grants per config, the revoked ones only when asked', async () => {
    await tokensFor('grant-lister');
    await tokensFor('someone-else');
    const ended = await codeFor('grant-lister', { resource: otherConfigUrl });
    const endedId = await grantOfCode(ended.code);
    const list = async (query: string) =>
      (
        await stack.api<{ grants: { id: string; config_id: string; revoked_at: string | null }[] }>(
          'GET',
          `/api/v1/mcp/oauth/grants?identifier=grant-lister${query}`,
        )
      ).body.grants;
    const otherId = otherConfigUrl.split('/').pop() as string;
    expect((await list(`&config_id=${otherId}`)).map((g) => g.id)).toEqual([endedId]);
    expect(await list('')).toHaveLength(2);
    await stack.api('POST', `/api/v1/mcp/oauth/grants/${endedId}:revoke`);
    expect((await list('')).map((g) => g.config_id)).toEqual([configUrl.split('/').pop()]);
    const withRevoked = await list('&include_revoked=true');
    expect(withRevoked).toHaveLength(2);
    expect(withRevoked.find((g) => g.id === endedId)).not.toHaveProperty('revoked_reason');
    const one = await stack.api<{ grant: Record<string, unknown> }>('GET', `/api/v1/mcp/oauth/grants/${endedId}`);
    expect(one.body.grant).toMatchObject({ id: endedId, identifier: 'grant-lister', client_id: clientId });
    expect(one.body.grant).not.toHaveProperty('revoked_reason');
    expect((await stack.api('GET', '/api/v1/mcp/oauth/grants/mgr_unknown')).status).toBe(404);
  });

  it('withholds the code until the config’s accounts are connected, and opens connect links only from its page', async () => {
    await stack.createConnection('MY_GMAIL', 'gmail');
    const created = await stack.api<{ config: { mcp_server_url: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'mapped',
      description: '',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL' }],
    });
    const consent = await toConsent('mapped-user', { resource: created.body.config.mcp_server_url });
    // No tools listed in the mapping: the page names all of the provider's.
    expect(consent.html).toContain('NOT_CONNECTED');
    expect(consent.html).toContain('gmail_fetch_mails');
    const refused = await decide(consent.browser, consent.consentUrl, consent.html, 'allow');
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('connect MY_GMAIL first');
    const connect = (form: Record<string, string>) =>
      consent.browser.request(`${consent.consentUrl.origin}${consent.consentUrl.pathname}/connect`, {
        form: { ...formFields(consent.html, '/connect', ['connection', 'MY_GMAIL']), ...form },
      });
    expect((await connect({ csrf: 'forged' })).status).toBe(403);
    expect((await connect({ connection: 'MY_DRIVE' })).status).toBe(404);
    const opened = await connect({});
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toMatch(new RegExp(`^${stack.url}/connect/`));
    // Denying needs no account.
    const denied = await decide(consent.browser, consent.consentUrl, consent.html, 'deny');
    expect(new URL(denied.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  it('sends malformed authorize requests back to the client, and refuses the unsafe ones in the browser', async () => {
    const redirected = async (overrides: Record<string, string | string[] | undefined>, error: string) => {
      const { response, location } = await startSignIn(overrides);
      expect([overrides, response.status, location.origin + location.pathname]).toEqual([overrides, 302, REDIRECT_URI]);
      expect([overrides, location.searchParams.get('error')]).toEqual([overrides, error]);
      expect(location.searchParams.get('iss')).toBe(stack.url);
    };
    await redirected({ state: ['a', 'b'] }, 'invalid_request');
    await redirected({ response_type: undefined }, 'unsupported_response_type');
    await redirected({ code_challenge: 'too-short' }, 'invalid_request');
    await redirected({ code_challenge_method: undefined }, 'invalid_request');
    await redirected({ resource: [configUrl, configUrl] }, 'invalid_target');
    await redirected({ resource: `${configUrl}/more` }, 'invalid_target');
    await redirected({ scope: 'x'.repeat(1001) }, 'invalid_scope');
    await redirected({ resource: undefined }, 'invalid_target');
    await redirected({ resource: `${stack.url}/mcp/c/cfg_${'a'.repeat(24)}` }, 'invalid_target');
    const otherId = otherConfigUrl.split('/').pop() as string;
    await stack.api('PUT', `/api/v1/mcp/configs/${otherId}/access`, { oauth_enabled: false });
    await redirected({ resource: otherConfigUrl }, 'invalid_target');
    await stack.api('PUT', `/api/v1/mcp/configs/${otherId}/access`, { oauth_enabled: true });
    const refused = async (overrides: Record<string, string | string[] | undefined>) => {
      const { response } = await startSignIn(overrides);
      expect([overrides, response.status, response.headers.get('location')]).toEqual([overrides, 400, null]);
    };
    await refused({ redirect_uri: 'https://attacker.example/callback' });
    await refused({ redirect_uri: `${REDIRECT_URI}/more` });
    await refused({ client_id: 'mcpc_unknown' });
    await refused({ response_type: ['code', 'code'] });
    await refused({ client_id: undefined });
    await refused({ client_id: [clientId, clientId] });
    await refused({ redirect_uri: undefined });
    await refused({ redirect_uri: [REDIRECT_URI, REDIRECT_URI] });
  });
});

/**
 * The OpenID Connect issuer's answer (OIDC upstream), with the stack's in-process sandbox as
 * the issuer: the state is spent once, in time, and a decline goes back to the client.
 */
describe('the OpenID Connect issuer setting', () => {
  it('takes https, or plain http only on this machine, and needs the client id', () => {
    const oidc = (issuer: string, clientId: string | null = 'login') =>
      loadConfig({
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: issuer,
        ...(clientId ? { SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: clientId } : {}),
      }).mcpOAuth.oidc;
    expect(oidc('https://login.example.com/')?.issuer).toBe('https://login.example.com');
    for (const local of ['http://localhost:9000', 'http://127.0.0.1:9000', 'http://idp.localhost', 'http://[::1]:9000'])
      expect(oidc(local)?.issuer, local).toBe(local);
    for (const remote of ['http://login.example.com', 'http://10.0.0.5:8080'])
      expect(() => oidc(remote), remote).toThrow(
        'SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: must be an https URL (plain http only for an issuer on this machine)',
      );
    expect(() => oidc('https://login.example.com', null)).toThrow(/OIDC_CLIENT_ID: the OIDC issuer needs/);
  });
});

describe('the MCP authorization server’s checks of the issuer’s answer', () => {
  // Near the real time: the issuer's id_token is checked against it.
  const clock = manualClock(Date.now());
  let stack: Stack;
  let configUrl: string;
  let clientId: string;

  beforeAll(async () => {
    stack = await startStack({
      clock,
      env: {
        ...NO_RATE_LIMITS,
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: IN_PROCESS_SANDBOX_URL,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: 'switchboard-mcp-login',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-client-secret',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email',
      },
    });
    const config = await stack.services.mcpConfigs.create({ name: 'oidc-checked', description: '', mappings: [] });
    configUrl = `${stack.url}/mcp/c/${config.id}`;
    const registration = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    clientId = ((await registration.json()) as { client_id: string }).client_id;
  });
  afterAll(() => stack?.close());

  /** Authorize in a new browser: the issuer's sign-in URL (with the state) and the browser. */
  async function atIssuer() {
    const browser = new TestBrowser(stack.fetch);
    const started = await browser.request(
      `${stack.url}/mcp-oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        resource: configUrl,
        state: 'st-2',
      })}`,
    );
    const issuer = new URL(started.headers.get('location') ?? '');
    expect(issuer.origin).toBe(IN_PROCESS_SANDBOX_URL);
    return { browser, issuer, state: issuer.searchParams.get('state') as string };
  }

  function callback(browser: TestBrowser, params: Record<string, string>) {
    return browser.request(`${stack.url}/mcp-oauth/oidc/callback?${new URLSearchParams(params)}`);
  }

  it('takes the issuer’s answer once, to the consent page of the browser that started it', async () => {
    const { browser, issuer } = await atIssuer();
    issuer.searchParams.set('login_hint', 'john.doe@example.com');
    issuer.searchParams.set('sandbox_auto_consent', 'allow');
    const back = new URL((await browser.request(issuer)).headers.get('location') ?? '');
    expect(back.pathname).toBe('/mcp-oauth/oidc/callback');
    const toConsent = await browser.request(back);
    const consentUrl = new URL(toConsent.headers.get('location') ?? '');
    expect(consentUrl.searchParams.get('consent_secret')).toBeTruthy();
    expect(await (await browser.request(consentUrl)).text()).toContain('for john.doe@example.com?');
    const replay = await browser.request(back);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('auth_state_invalid');
    expect((await callback(browser, {})).status).toBe(400);
  });

  it('fetches the issuer’s keys again for an id_token signed by a key it has not seen, at most once in 30 s', async () => {
    /** Switchboard's answer to the issuer's redirect: 302 to the consent page once the id_token is verified. */
    const signIn = async () => {
      const { browser, issuer } = await atIssuer();
      issuer.searchParams.set('login_hint', 'john.doe@example.com');
      issuer.searchParams.set('sandbox_auto_consent', 'allow');
      const back = new URL((await browser.request(issuer)).headers.get('location') ?? '');
      const answer = await browser.request(back);
      await answer.arrayBuffer();
      return answer.status;
    };
    const rollOver = () => stack.sandbox.state.rotateIdTokenKey();
    expect(await signIn()).toBe(302);
    rollOver();
    expect(await signIn()).toBe(302);
    // The keys were fetched again just now: another unknown key waits until 30 s after that.
    rollOver();
    expect(await signIn()).toBe(502);
    clock.advance(30_000 - 1);
    expect(await signIn()).toBe(502);
    clock.advance(1);
    expect(await signIn()).toBe(302);
  });

  it('sends a decline back to the client as access_denied, any other error as server_error', async () => {
    for (const [error, expected] of [
      ['access_denied', 'access_denied'],
      ['login_required', 'server_error'],
    ]) {
      const { browser, state } = await atIssuer();
      const declined = await callback(browser, { state, error: error as string });
      const location = new URL(declined.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: expected, state: 'st-2' });
      // The sign-in is over: the issuer's answer cannot come after the decline.
      expect((await callback(browser, { state, code: 'late' })).status).toBe(400);
    }
  });

  it('spends the issuer’s answer once when it arrives twice at the same time', async () => {
    const { browser, issuer } = await atIssuer();
    issuer.searchParams.set('login_hint', 'john.doe@example.com');
    issuer.searchParams.set('sandbox_auto_consent', 'allow');
    const back = new URL((await browser.request(issuer)).headers.get('location') ?? '');
    const server = stack.services.mcpAuthorizationServer;
    const answers = await Promise.allSettled([
      server.completeUpstream(back.searchParams),
      server.completeUpstream(back.searchParams),
    ]);
    // Reused when both read the state before either spent it (SQLite interleaves so), else unknown.
    expect(answers.map((a) => (a.status === 'rejected' ? a.reason.code : a.status)).sort()).toEqual([
      expect.stringMatching(/^auth_state_(reused|invalid)$/),
      'fulfilled',
    ]);
  });

  it('refuses the issuer’s answer at the sign-in’s 15 minutes, and an answer it cannot verify', async () => {
    const inTime = await atIssuer();
    clock.advance(15 * MINUTE - 1);
    const unverified = await callback(inTime.browser, { state: inTime.state, code: 'not-from-the-issuer' });
    expect(unverified.status).toBe(502);
    expect(await unverified.text()).toContain('provider_error');
    const late = await atIssuer();
    clock.advance(15 * MINUTE);
    const expired = await callback(late.browser, { state: late.state, code: 'whatever' });
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('auth_state_expired');
  });
});
