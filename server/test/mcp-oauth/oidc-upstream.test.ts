import { createHash, randomBytes } from 'node:crypto';
import {
  type CallToolResult,
  Client,
  type StoredOAuthTokens,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiConfig, createSeedConfig, SEED_TOOLS } from '../mcp/support.js';
import { type RunningSandbox, startSandbox } from '../support/sandbox.js';
import { type Stack, startStack } from '../support/stack.js';
import { formFields, TestBrowser } from './browser.js';
import { expectFixationRefused } from './fixation.js';
import { MemoryProvider, REDIRECT_URI } from './memory-provider.js';

/**
 * OIDC upstream: users sign in at the app's OpenID Connect issuer — here a second sandbox,
 * whose OIDC face (discovery, id_token, JWKS) stands in for Auth0, Keycloak or Google — and its
 * verified email becomes the identifier.
 */
describe('MCP sign-in through the app’s OpenID Connect issuer', () => {
  let idp: RunningSandbox;
  let stack: Stack;
  let config: ApiConfig;

  beforeAll(async () => {
    idp = await startSandbox();
    stack = await startStack({
      listen: true,
      env: {
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: idp.url,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: 'switchboard-mcp-login',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-client-secret',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email',
      },
    });
    config = await createSeedConfig(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await idp?.close();
  });

  /** From the client's authorize URL to the issuer's sign-in, as john.doe, and back to Switchboard. */
  async function signInAtIssuer(browser: TestBrowser, authorizationUrl: URL) {
    const atIssuer = await browser.follow(authorizationUrl, (u) => u.origin === new URL(idp.url).origin);
    expect(atIssuer.url.searchParams.get('nonce')).toBeTruthy();
    expect(atIssuer.url.searchParams.get('code_challenge_method')).toBe('S256');
    const signIn = new URL(atIssuer.url);
    signIn.searchParams.set('login_hint', 'john.doe@example.com');
    signIn.searchParams.set('sandbox_auto_consent', 'allow');
    return { signIn, ...(await browser.follow(signIn, (u) => u.origin === new URL(REDIRECT_URI).origin)) };
  }

  it('takes the official SDK client through the issuer’s sign-in, consent with inline connect, and tool calls', async () => {
    const access = await stack.api<{ access: { login_mode: string } }>(
      'GET',
      `/api/v1/mcp/configs/${config.id}/access`,
    );
    expect(access.body.access.login_mode).toBe('oidc');
    const provider = new MemoryProvider();
    const first = new Client({ name: 'oidc-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider });
    await expect(first.connect(transport)).rejects.toThrow();

    const browser = new TestBrowser();
    const { url, response } = await signInAtIssuer(browser, provider.authorizationUrl as URL);
    expect(url.pathname).toMatch(/^\/mcp-oauth\/consent\//);
    let html = await response.text();
    expect(html).toContain('for john.doe@example.com?');
    for (const connection of ['MY_GMAIL', 'MY_CALENDAR']) {
      const opened = await browser.request(new URL(`${url.pathname}/connect`, url), {
        form: formFields(html, '/connect', ['connection', connection]),
      });
      expect((await stack.consent(opened.headers.get('location') ?? '')).status).toBe(200);
    }
    html = await (await browser.request(url)).text();
    const decided = await browser.request(url, { form: formFields(html, url.pathname, ['decision', 'allow']) });
    await transport.finishAuth(new URL(decided.headers.get('location') ?? '').searchParams);

    const client = new Client({ name: 'oidc-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(SEED_TOOLS);
    const mails = (await client.callTool({
      name: 'gmail_fetch_mails',
      arguments: { max_results: 1 },
    })) as CallToolResult;
    expect(mails.isError).toBeFalsy();
    const grants = await stack.api<{ grants: { identifier: string }[] }>('GET', '/api/v1/mcp/oauth/grants');
    expect(grants.body.grants.map((g) => g.identifier)).toEqual(['john.doe@example.com']);
    expect((provider.saved as StoredOAuthTokens).refresh_token).toMatch(/^mcprt_/);
    await client.close();
  });

  it('lets only the browser that started a sign-in and came back from the issuer consent to it', async () => {
    // The attacker registers a client, starts a sign-in with its own PKCE, keeps the sign-in
    // cookie, and sends the issuer's sign-in link to john.doe, who has a session at the issuer.
    const registration = await fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Raw Client',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }),
    });
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const authorize = new URL(`${stack.url}/mcp-oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
      resource: config.mcp_server_url,
    }).toString();
    const attacker = new TestBrowser();
    const started = await attacker.request(authorize);
    const requestPath = /Path=([^;]+)/.exec(started.headers.get('set-cookie') ?? '')?.[1] as string;
    expect(requestPath).toMatch(/^\/mcp-oauth\/consent\/mar_/);
    const signInLink = new URL(started.headers.get('location') ?? '');
    expect(signInLink.origin).toBe(new URL(idp.url).origin);
    signInLink.searchParams.set('login_hint', 'john.doe@example.com');
    signInLink.searchParams.set('sandbox_auto_consent', 'allow');
    const victim = new TestBrowser();
    const sentBack = await victim.follow(signInLink, (u) => u.pathname === requestPath);
    expect(sentBack.url.pathname).toBe(requestPath);

    await expectFixationRefused(stack.url, requestPath, { attacker, victim }, sentBack.url, 'john.doe@example.com');
    const grants = await stack.api<{ grants: { client_id: string }[] }>('GET', '/api/v1/mcp/oauth/grants');
    expect(grants.body.grants.map((g) => g.client_id)).not.toContain(clientId);
  });

  it('refuses the issuer’s answer replayed, and sends a declined sign-in back to the client', async () => {
    const provider = new MemoryProvider();
    const transport = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider });
    await expect(new Client({ name: 'oidc-test', version: '1.0.0' }).connect(transport)).rejects.toThrow();
    const browser = new TestBrowser();
    const atIssuer = await browser.follow(
      provider.authorizationUrl as URL,
      (u) => u.origin === new URL(idp.url).origin,
    );
    const signIn = new URL(atIssuer.url);
    signIn.searchParams.set('login_hint', 'john.doe@example.com');
    signIn.searchParams.set('sandbox_auto_consent', 'allow');
    const callback = new URL((await browser.request(signIn)).headers.get('location') ?? '');
    expect(callback.pathname).toBe('/mcp-oauth/oidc/callback');
    expect((await browser.request(callback)).status).toBe(302);
    const replay = await browser.request(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('not known');

    const declining = new MemoryProvider();
    const second = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: declining });
    await expect(new Client({ name: 'oidc-test', version: '1.0.0' }).connect(second)).rejects.toThrow();
    const toIssuer = await browser.follow(
      declining.authorizationUrl as URL,
      (u) => u.origin === new URL(idp.url).origin,
    );
    const deny = new URL(toIssuer.url);
    deny.searchParams.set('sandbox_auto_consent', 'deny');
    const back = await browser.follow(deny, (u) => u.origin === new URL(REDIRECT_URI).origin);
    expect(back.url.searchParams.get('error')).toBe('access_denied');
  });

  it('signs in after the issuer rolled its signing key over, fetching its keys again at most every 30 s', async () => {
    /** Where the issuer's answer lands: the consent page once the id_token was verified. */
    const signIn = async () => {
      const provider = new MemoryProvider();
      const transport = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider });
      await expect(new Client({ name: 'oidc-test', version: '1.0.0' }).connect(transport)).rejects.toThrow();
      const { url, response } = await signInAtIssuer(new TestBrowser(), provider.authorizationUrl as URL);
      return { path: url.pathname, status: response.status, text: await response.text() };
    };
    const rollOver = async () => {
      const response = await fetch(`${idp.url}/__sandbox/oidc/rotate-key`, { method: 'POST' });
      expect(response.status).toBe(200);
    };
    const consent = /^\/mcp-oauth\/consent\//;
    // The issuer's keys are fetched and cached here.
    expect((await signIn()).path).toMatch(consent);
    // Its next id_token is signed by a key the cached JWKS lacks: the keys are fetched again.
    await rollOver();
    expect((await signIn()).path).toMatch(consent);
    // Another rollover within 30 s of that fetch is not fetched again: the sign-in fails, and says so.
    await rollOver();
    const refused = await signIn();
    expect(refused.path).toBe('/mcp-oauth/oidc/callback');
    expect(refused.status).toBe(502);
    expect(refused.text).toContain('the sign-in provider’s answer could not be verified');
  });
});
