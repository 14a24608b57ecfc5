import { createHash, randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Retention } from '../../src/maintenance/retention.js';
import { DashboardClient } from '../dashboard/dashboard-client.js';
import { type ApiConfig, connectV2, createSeedConfig, ensureInstance, mintToken } from '../mcp/support.js';
import { type Stack, startStack } from '../support/stack.js';
import { formFields, TestBrowser } from './browser.js';
import { mcpPing } from './mcp-ping.js';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const LOGIN_URL = 'https://app.example/login';

/**
 * The whole sign-in driven by hand, in process: authorize, the app's answer for `identifier`
 * (its login page is never loaded), consent, code, tokens.
 */
async function signIn(stack: Stack, config: ApiConfig, identifier: string) {
  const registration = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Hand Client',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${stack.url}/mcp-oauth/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: config.mcp_server_url,
  }).toString();
  const browser = new TestBrowser(stack.fetch);
  const toLogin = await browser.request(authorize);
  const login = new URL(toLogin.headers.get('location') ?? '');
  expect(login.origin + login.pathname).toBe(LOGIN_URL);
  const verified = await stack.api<{ post_user_verify_redirect_url: string }>('POST', '/api/v1/mcp/oauth/user/verify', {
    auth_request_id: login.searchParams.get('auth_request_id'),
    identifier,
  });
  expect(verified.status).toBe(200);
  const consentUrl = new URL(verified.body.post_user_verify_redirect_url);
  const page = await browser.request(consentUrl);
  const html = await page.text();
  const decided = await browser.request(consentUrl, {
    form: formFields(html, consentUrl.pathname, ['decision', 'allow']),
  });
  expect(decided.status).toBe(303);
  const code = new URL(decided.headers.get('location') ?? '').searchParams.get('code') as string;
  const exchange = {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
  };
  const tokens = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(exchange),
  });
  expect(tokens.status).toBe(200);
  const body = (await tokens.json()) as { access_token: string; refresh_token: string };
  return { ...body, clientId, exchange, html };
}

async function pingStatus(stack: Stack, url: string, token: string): Promise<number> {
  return (await mcpPing(stack.fetch, url, token)).status;
}

describe('the ways into a config URL, each switchable per config', () => {
  let stack: Stack;
  let replica: Stack;
  let config: ApiConfig;
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: LOGIN_URL } });
    replica = await startStack({ database: stack.db, env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: LOGIN_URL } });
    config = await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe');
    await stack.connectAccount('MY_CALENDAR', 'john-doe');
  });
  afterAll(async () => {
    await replica?.close();
    await stack?.close();
  });

  it('refuses a grant revoked through one replica on the other within a second', async () => {
    const { access_token: token } = await signIn(stack, config, 'john-doe');
    expect(await pingStatus(replica, config.mcp_server_url, token)).toBe(200);
    const [grant] = (
      await stack.api<{ grants: { id: string }[] }>('GET', `/api/v1/mcp/oauth/grants?config_id=${config.id}`)
    ).body.grants;
    expect((await stack.api('POST', `/api/v1/mcp/oauth/grants/${grant?.id}:revoke`)).status).toBe(200);
    const started = Date.now();
    while ((await pingStatus(replica, config.mcp_server_url, token)) !== 401) {
      expect(Date.now() - started).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('shows the user’s signed-in MCP clients on the dashboard, and revokes one there', async () => {
    const { access_token: token } = await signIn(stack, config, 'john-doe');
    const dashboard = new DashboardClient(stack);
    const csrf = await dashboard.signIn();
    const page = await (await dashboard.get('/dashboard/user?identifier=john-doe')).text();
    expect(page).toContain('MCP clients signed in');
    expect(page).toContain('Hand Client');
    const grantId = DashboardClient.hidden(page, 'grant_id');
    const revoked = await dashboard.post('/dashboard/mcp-grants/revoke', { _csrf: csrf, grant_id: grantId });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toContain('notice=grant-revoked');
    expect(await pingStatus(stack, config.mcp_server_url, token)).toBe(401);
    const forged = await dashboard.post('/dashboard/mcp-grants/revoke', { grant_id: grantId });
    expect(forged.status).toBe(403);
  });

  it('revokes the grant of an authorization code presented twice', async () => {
    const signedIn = await signIn(stack, config, 'john-doe');
    const again = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(signedIn.exchange),
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await pingStatus(stack, config.mcp_server_url, signedIn.access_token)).toBe(401);
  });

  it('turns instance URLs and session tokens off and on again, leaving OAuth working', async () => {
    const instance = await ensureInstance(stack, config.name, 'john-doe');
    const session = (await mintToken(stack, config.id, 'john-doe')).body.token;
    const { access_token: oauthToken } = await signIn(stack, config, 'john-doe');
    const instanceStatus = async () => (await stack.fetch(instance.url, { method: 'POST' })).status;
    expect(await instanceStatus()).not.toBe(404);
    const off = await stack.api<{ access: Record<string, unknown> }>('PUT', `/api/v1/mcp/configs/${config.id}/access`, {
      instance_urls_enabled: false,
      session_tokens_enabled: false,
    });
    expect(off.body.access).toMatchObject({
      oauth_enabled: true,
      instance_urls_enabled: false,
      session_tokens_enabled: false,
    });
    expect(await instanceStatus()).toBe(404);
    expect(await pingStatus(stack, config.mcp_server_url, session)).toBe(401);
    expect(await pingStatus(stack, config.mcp_server_url, oauthToken)).toBe(200);
    await stack.api('PUT', `/api/v1/mcp/configs/${config.id}/access`, {
      instance_urls_enabled: true,
      session_tokens_enabled: true,
    });
    expect(await instanceStatus()).not.toBe(404);
    expect(await pingStatus(stack, config.mcp_server_url, session)).toBe(200);
  });

  it('lets the client proceed before the accounts are connected when the config allows it; tools then answer with links', async () => {
    await stack.api('PUT', `/api/v1/mcp/configs/${config.id}/access`, { require_active_accounts: false });
    const signedIn = await signIn(stack, config, 'jane-roe');
    expect(signedIn.html).toMatch(/NOT_CONNECTED/);
    const client = await connectV2(stack, config.mcp_server_url, { token: signedIn.access_token });
    const result = (await client.callTool({ name: 'gmail_fetch_mails', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(`${stack.url}/connect/`);
    await client.close();
    await stack.api('PUT', `/api/v1/mcp/configs/${config.id}/access`, { require_active_accounts: true });
  });
});

describe('pruning the authorization server’s rows', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: LOGIN_URL } });
  });
  afterAll(() => stack?.close());

  it('deletes expired requests, codes and refresh tokens, long-revoked grants and unused clients, keeping live grants', async () => {
    const config = await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe');
    await stack.connectAccount('MY_CALENDAR', 'john-doe');
    const live = await signIn(stack, config, 'john-doe');
    const revoked = await signIn(stack, config, 'john-doe');
    const unused = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    expect(unused.status).toBe(201);
    const grants = await stack.api<{ grants: { id: string }[] }>('GET', '/api/v1/mcp/oauth/grants');
    await stack.api('POST', `/api/v1/mcp/oauth/grants/${grants.body.grants[0]?.id}:revoke`);
    const db = stack.db.db;
    const count = async (
      table:
        | 'mcp_oauth_requests'
        | 'mcp_oauth_codes'
        | 'mcp_oauth_refresh_tokens'
        | 'mcp_oauth_grants'
        | 'mcp_oauth_clients',
    ) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('mcp_oauth_grants')).toBe(2);
    expect(await count('mcp_oauth_clients')).toBe(3);
    const in40Days = { now: () => Date.now() + 40 * 86_400_000 };
    const pruned = await new Retention(
      { db, clock: in40Days, logger: stack.services.logger },
      { logRetentionDays: 0, accountEventRetentionDays: 0 },
    ).pruneOnce();
    expect(pruned.mcpOAuth).toBeGreaterThan(0);
    expect(await count('mcp_oauth_requests')).toBe(0);
    expect(await count('mcp_oauth_codes')).toBe(0);
    expect(await count('mcp_oauth_refresh_tokens')).toBe(0);
    expect(await count('mcp_oauth_grants')).toBe(1);
    // The client of the live grant stays; the unused one and the one whose grant went are deleted.
    const clients = await db.selectFrom('mcp_oauth_clients').select('client_id').execute();
    expect(clients.map((row) => row.client_id)).toEqual([live.clientId]);
    expect(revoked.refresh_token).toMatch(/^mcprt_/);
  });
});

describe('dynamic client registration switched off', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_MCP_OAUTH_REGISTRATION: 'false' } });
  });
  afterAll(() => stack?.close());

  it('is not advertised and its endpoint is not there', async () => {
    const metadata = (await (
      await stack.fetch(`${stack.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBeUndefined();
    const response = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
    });
    expect(response.status).toBe(404);
  });
});

describe('the authorization server’s rate limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_RATE_LIMIT_TOKEN: '3/60', SWITCHBOARD_RATE_LIMIT_CONNECT: '2/60' } });
  });
  afterAll(() => stack?.close());

  it('answers 429 with Retry-After past the token limit (registration included) and the page limit', async () => {
    const register = () =>
      stack.fetch(`${stack.url}/mcp-oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
      });
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(201);
    const token = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'y' }),
    });
    expect(token.status).toBe(401);
    const limited = await register();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    const authorize = () => stack.fetch(`${stack.url}/mcp-oauth/authorize?client_id=nobody`, { redirect: 'manual' });
    expect((await authorize()).status).toBe(400);
    expect((await authorize()).status).toBe(400);
    expect((await authorize()).status).toBe(429);
  });
});
