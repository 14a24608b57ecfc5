import {
  type CallToolResult,
  Client,
  type StoredOAuthTokens,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafeDocumentFetcher } from '../../src/mcp-auth/document-fetcher.js';
import { type ApiConfig, createSeedConfig, SEED_TOOLS } from '../mcp/support.js';
import { type LoopbackServer, serveOnLoopback } from '../support/loopback.js';
import { type Stack, startStack } from '../support/stack.js';
import { serveAppLogin } from './app-login.js';
import { formFields, TestBrowser } from './browser.js';
import { expectFixationRefused } from './fixation.js';
import { mcpPing } from './mcp-ping.js';
import { MemoryProvider, REDIRECT_URI } from './memory-provider.js';
import { pkce } from './pkce.js';

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

describe('MCP clients sign their users in at a config URL (Switchboard as authorization server)', () => {
  let stack: Stack;
  let app: LoopbackServer;
  let documents: LoopbackServer;
  let config: ApiConfig;
  let other: ApiConfig;
  let registered: { client_id: string };

  beforeAll(async () => {
    // The app: it knows who is signed in (here always john-doe), says so, and sends the browser back.
    app = await serveAppLogin(() => stack, 'john-doe');
    // Client ID Metadata Documents: a good one, a slow one and a huge one.
    documents = await serveOnLoopback(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/client.json') {
        return Response.json({
          client_id: `${documents.url}/client.json`,
          client_name: 'Metadata Document Agent',
          redirect_uris: [REDIRECT_URI],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        });
      }
      if (url.pathname === '/slow.json') {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        return Response.json({});
      }
      if (url.pathname === '/huge.json') return new Response(`{"pad":"${'x'.repeat(1_000_000)}"}`);
      return new Response('not found', { status: 404 });
    });
    stack = await startStack({
      listen: true,
      env: {
        SWITCHBOARD_MCP_OAUTH_LOGIN_URL: `${app.url}/login`,
        SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA: 'true',
        SWITCHBOARD_MCP_OAUTH_METADATA_TIMEOUT_MS: '400',
      },
    });
    config = await createSeedConfig(stack);
    other = await createSeedConfig(stack, 'other-config');
    const registration = await fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Raw Client',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(registration.status).toBe(201);
    registered = (await registration.json()) as { client_id: string };
  });
  afterAll(async () => {
    await stack?.close();
    await app?.close();
    await documents?.close();
  });

  /** Browser from the authorize URL through the app's login to the consent page. */
  async function toConsent(browser: TestBrowser, authorizationUrl: URL | string) {
    const { response, url } = await browser.follow(authorizationUrl, (u) => u.origin === new URL(REDIRECT_URI).origin);
    expect(url.pathname).toMatch(/^\/mcp-oauth\/consent\//);
    expect(response.status).toBe(200);
    return { url, html: await response.text() };
  }

  async function allow(browser: TestBrowser, consentUrl: URL, html: string): Promise<URL> {
    const decided = await browser.request(consentUrl, {
      form: formFields(html, consentUrl.pathname, ['decision', 'allow']),
    });
    expect(decided.status).toBe(303);
    return new URL(decided.headers.get('location') ?? '');
  }

  /** The SDK client's whole sign-in: 401, discovery, registration, login, consent, code. */
  async function signIn(provider: MemoryProvider, connectAccounts: boolean): Promise<Client> {
    const first = new Client({ name: 'oauth-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider });
    await expect(first.connect(transport)).rejects.toThrow();
    expect(provider.authorizationUrl?.searchParams.get('resource')).toBe(config.mcp_server_url);
    const browser = new TestBrowser();
    let { url, html } = await toConsent(browser, provider.authorizationUrl as URL);
    expect(html).toContain('Test Agent');
    if (connectAccounts) {
      expect(html).toMatch(/Allow<\/button>/);
      expect(html).toContain(' disabled>Allow');
      for (const connection of ['MY_GMAIL', 'MY_CALENDAR']) {
        const opened = await browser.request(new URL(`${url.pathname}/connect`, url), {
          form: formFields(html, '/connect', ['connection', connection]),
        });
        expect(opened.status).toBe(303);
        const done = await stack.consent(opened.headers.get('location') ?? '', { email: 'john.doe@example.com' });
        expect(done.status).toBe(200);
      }
      ({ html } = await toConsentReload(browser, url));
    }
    expect(html.match(/>ACTIVE</g)?.length).toBe(2);
    const callback = await allow(browser, url, html);
    expect(callback.searchParams.get('iss')).toBe(stack.url);
    await transport.finishAuth(callback.searchParams);
    const client = new Client({ name: 'oauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider }));
    return client;
  }

  async function toConsentReload(browser: TestBrowser, url: URL) {
    const response = await browser.request(url);
    expect(response.status).toBe(200);
    return { html: await response.text() };
  }

  function mcpStatus(token: string, url = config.mcp_server_url): Promise<Response> {
    return mcpPing(fetch, url, token);
  }

  async function tokenRequest(form: Record<string, string>) {
    const response = await fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  function authorizeUrl(overrides: Record<string, string | undefined>): URL {
    const url = new URL(`${stack.url}/mcp-oauth/authorize`);
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: registered.client_id,
      redirect_uri: REDIRECT_URI,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
      resource: config.mcp_server_url,
      state: 'st-1',
      ...overrides,
    };
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  it('publishes RFC 9728 and RFC 8414 metadata naming Switchboard as the authorization server', async () => {
    const prmResponse = await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp/c/${config.id}`);
    // Browser-based clients (MCP Inspector's UI) read discovery documents from their own origin,
    // and must see a missing one as a 404 to try the next URL, not as a CORS failure.
    expect(prmResponse.headers.get('access-control-allow-origin')).toBe('*');
    expect(await prmResponse.json()).toMatchObject({
      resource: config.mcp_server_url,
      authorization_servers: [stack.url],
    });
    for (const missing of [
      '/.well-known/oauth-protected-resource',
      `/.well-known/oauth-authorization-server/mcp/c/${config.id}`,
    ]) {
      const response = await fetch(`${stack.url}${missing}`, { headers: { origin: 'http://127.0.0.1:6274' } });
      expect([missing, response.status, response.headers.get('access-control-allow-origin')]).toEqual([
        missing,
        404,
        '*',
      ]);
    }
    const as = (await (await fetch(`${stack.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as).toMatchObject({
      issuer: stack.url,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      client_id_metadata_document_supported: true,
      registration_endpoint: `${stack.url}/mcp-oauth/register`,
    });
  });

  it('takes the official SDK client from a 401 through DCR, the app hand-off and consent with inline connect to tool calls, refresh and reuse detection', async () => {
    const provider = new MemoryProvider();
    const client = await signIn(provider, true);
    expect(provider.info?.client_id).toMatch(/^mcpc_/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(SEED_TOOLS);
    const mails = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect((mails as CallToolResult).isError).toBeFalsy();
    const start = new Date(Date.now() + 15 * 60_000);
    start.setUTCSeconds(0, 0);
    const event = await client.callTool({
      name: 'googlecalendar_create_event',
      arguments: { summary: 'Reminder', start_datetime: start.toISOString(), event_duration_minutes: 15 },
    });
    expect((event as CallToolResult).isError, textOf(event)).toBeFalsy();

    // An expired access token: the SDK refreshes by itself, and the refresh token rotates.
    const before = provider.saved as StoredOAuthTokens;
    provider.saved = { ...before, access_token: 'expired' };
    const again = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect((again as CallToolResult).isError).toBeFalsy();
    const after = provider.saved as StoredOAuthTokens;
    expect(after.access_token).not.toBe('expired');
    expect(after.refresh_token).not.toBe(before.refresh_token);

    // The spent refresh token presented again: refused, and the whole grant ends with it.
    const replay = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token as string,
      client_id: provider.info?.client_id as string,
    });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const current = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: after.refresh_token as string,
      client_id: provider.info?.client_id as string,
    });
    expect(current).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const refused = await mcpStatus(after.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await client.close();
  });

  it('revokes a grant by RFC 7009 and by the management API, and lists grants per user', async () => {
    const provider = new MemoryProvider();
    const client = await signIn(provider, false);
    const listed = await stack.api<{ grants: { id: string; client_name: string; config_id: string }[] }>(
      'GET',
      '/api/v1/mcp/oauth/grants?identifier=john-doe',
    );
    expect(listed.body.grants.map((g) => [g.client_name, g.config_id])).toEqual([['Test Agent', config.id]]);
    const tokens = provider.saved as StoredOAuthTokens;
    expect((await mcpStatus(tokens.access_token)).status).toBe(200);
    const revoked = await fetch(`${stack.url}/mcp-oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens.refresh_token as string,
        client_id: provider.info?.client_id as string,
      }),
    });
    expect(revoked.status).toBe(200);
    expect((await mcpStatus(tokens.access_token)).status).toBe(401);
    await client.close();

    const second = new MemoryProvider();
    await (await signIn(second, false)).close();
    const [grant] = (
      await stack.api<{ grants: { id: string }[] }>('GET', '/api/v1/mcp/oauth/grants?identifier=john-doe')
    ).body.grants;
    const access = (second.saved as StoredOAuthTokens).access_token;
    expect((await mcpStatus(access)).status).toBe(200);
    const byApp = await stack.api('POST', `/api/v1/mcp/oauth/grants/${grant?.id}:revoke`);
    expect(byApp.status).toBe(200);
    expect((await mcpStatus(access)).status).toBe(401);
  });

  it('registers a client by its metadata document and refuses its token on another config', async () => {
    const clientId = `${documents.url}/client.json`;
    const { verifier, challenge } = pkce();
    const browser = new TestBrowser();
    const { url, html } = await toConsent(browser, authorizeUrl({ client_id: clientId, code_challenge: challenge }));
    expect(html).toContain('Metadata Document Agent');
    const callback = await allow(browser, url, html);
    expect(callback.searchParams.get('state')).toBe('st-1');
    const code = callback.searchParams.get('code') as string;
    const exchange = { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId };
    // The code is bound to its resource, redirect URI and PKCE verifier.
    expect(
      await tokenRequest({ ...exchange, redirect_uri: REDIRECT_URI, resource: other.mcp_server_url }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(await tokenRequest({ ...exchange, redirect_uri: 'http://127.0.0.1:9/other' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(
      await tokenRequest({ ...exchange, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const issued = await tokenRequest({ ...exchange, redirect_uri: REDIRECT_URI, resource: config.mcp_server_url });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer' });
    // Using the access token moves the grant's "last used" (batched, flushed before a listing).
    const [grant] = (
      await stack.api<{ grants: { id: string; client_id: string }[] }>('GET', '/api/v1/mcp/oauth/grants')
    ).body.grants.filter((g) => g.client_id === clientId);
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await stack.services.db
      .updateTable('mcp_oauth_grants')
      .set({ last_used_at: longAgo })
      .where('id', '=', grant?.id as string)
      .execute();
    expect((await mcpStatus(issued.body.access_token as string)).status).toBe(200);
    const used = await stack.api<{ grant: { last_used_at: string } }>('GET', `/api/v1/mcp/oauth/grants/${grant?.id}`);
    expect(Date.parse(used.body.grant.last_used_at)).toBeGreaterThan(Date.parse(longAgo) + 9 * 60_000);
    const elsewhere = await mcpStatus(issued.body.access_token as string, other.mcp_server_url);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('lets only the browser that started a sign-in and came back from the app consent to it', async () => {
    const grantsOfClient = async () =>
      (
        await stack.api<{ grants: { client_id: string }[] }>('GET', '/api/v1/mcp/oauth/grants?identifier=john-doe')
      ).body.grants.filter((g) => g.client_id === registered.client_id).length;
    const grantsBefore = await grantsOfClient();
    // The attacker starts a sign-in with its own client and PKCE, keeps the sign-in cookie (its
    // path names the request), and sends the app's login link to john-doe, signed in at the app.
    const attacker = new TestBrowser();
    const started = await attacker.request(authorizeUrl({}));
    const loginLink = new URL(started.headers.get('location') ?? '');
    const requestPath = /Path=([^;]+)/.exec(started.headers.get('set-cookie') ?? '')?.[1] as string;
    expect(requestPath).toMatch(/^\/mcp-oauth\/consent\/mar_/);
    const victim = new TestBrowser();
    const sentBack = await victim.follow(loginLink, (u) => u.pathname === requestPath);
    expect(sentBack.url.pathname).toBe(requestPath);

    await expectFixationRefused(stack.url, requestPath, { attacker, victim }, sentBack.url, 'john-doe');
    expect(await grantsOfClient()).toBe(grantsBefore);
  });

  it('refuses the consent page without the link the app sent the browser back with', async () => {
    const browser = new TestBrowser();
    const { url, html } = await toConsent(browser, authorizeUrl({}));
    expect(html).toContain('for john-doe?');
    const bare = await browser.request(`${url.origin}${url.pathname}`);
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('auth_state_invalid');
    // The same browser with the link goes on to allow.
    const { html: again } = await toConsentReload(browser, url);
    const callback = await allow(browser, url, again);
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('sends a wrong resource and a missing or plain PKCE back to the client with the spec’s errors', async () => {
    const expectRedirectError = async (url: URL, error: string) => {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('st-1');
    };
    await expectRedirectError(authorizeUrl({ resource: `${stack.url}/mcp/c/cfg_nope` }), 'invalid_target');
    await expectRedirectError(authorizeUrl({ resource: 'https://elsewhere.example/mcp' }), 'invalid_target');
    await expectRedirectError(authorizeUrl({ resource: undefined }), 'invalid_target');
    await expectRedirectError(
      authorizeUrl({ code_challenge: undefined, code_challenge_method: undefined }),
      'invalid_request',
    );
    await expectRedirectError(authorizeUrl({ code_challenge_method: 'plain' }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ response_type: 'token' }), 'unsupported_response_type');
  });

  it('never redirects to an unregistered redirect URI or for an unusable client', async () => {
    const refused = async (url: URL, error: string, detail?: RegExp) => {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      const text = await response.text();
      expect(text).toContain(`${error}:`);
      if (detail) expect(text).toMatch(detail);
    };
    await refused(authorizeUrl({ redirect_uri: 'https://attacker.example/callback' }), 'invalid_request');
    await refused(authorizeUrl({ redirect_uri: 'http://127.0.0.1:9/callback/more' }), 'invalid_request');
    await refused(authorizeUrl({ client_id: 'mcpc_unknown' }), 'invalid_client');
    // Client ID Metadata Documents that a safe fetcher refuses: private address, slow, huge.
    await refused(
      authorizeUrl({ client_id: 'https://10.0.0.7/client.json' }),
      'invalid_client',
      /not a public address/,
    );
    await refused(
      authorizeUrl({ client_id: 'https://[::ffff:192.168.1.1]/client.json' }),
      'invalid_client',
      /not a public address/,
    );
    await refused(
      authorizeUrl({ client_id: `${documents.url}/slow.json` }),
      'invalid_client',
      /did not arrive within 400 ms/,
    );
    await refused(
      authorizeUrl({ client_id: `${documents.url}/huge.json` }),
      'invalid_client',
      /larger than 65536 bytes/,
    );
  });

  it('resolves names before connecting and refuses one that points at this machine', async () => {
    const fetcher = new SafeDocumentFetcher({ timeoutMs: 1_000, maxBytes: 1024, allowLoopback: false });
    const port = new URL(documents.url).port;
    await expect(fetcher.fetchJson(`https://localhost:${port}/client.json`)).rejects.toThrow(/not a public address/);
    await expect(fetcher.fetchJson(`http://example.com/client.json`)).rejects.toThrow(/only https/);
  });

  it('turns OAuth off per config: no authorization server is named and its tokens stop working', async () => {
    const off = await stack.api('PUT', `/api/v1/mcp/configs/${other.id}/access`, { oauth_enabled: false });
    expect(off.status).toBe(200);
    const prm = (await (
      await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp/c/${other.id}`)
    ).json()) as Record<string, unknown>;
    expect(prm.authorization_servers).toBeUndefined();
    const response = await fetch(authorizeUrl({ resource: other.mcp_server_url }), { redirect: 'manual' });
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_target');
  });
});
