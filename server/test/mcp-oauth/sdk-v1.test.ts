import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiConfig, createSeedConfig, SEED_TOOLS } from '../mcp/support.js';
import type { LoopbackServer } from '../support/loopback.js';
import { type Stack, startStack } from '../support/stack.js';
import { serveAppLogin } from './app-login.js';
import { formFields, TestBrowser } from './browser.js';
import { REDIRECT_URI } from './memory-provider.js';

/** The v1 SDK's client-side OAuth state, in memory as a desktop client would keep it on disk. */
class V1MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly redirectUrl = REDIRECT_URI;

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'V1 Agent',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  state() {
    return 'v1-state';
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/**
 * The v1 MCP TypeScript SDK (`@modelcontextprotocol/sdk` 1.x, what most shipped clients still
 * embed) through the same sign-in as the v2 client: a 401, discovery, DCR, the app hand-off,
 * consent with inline connect, the code exchange, tool calls and a refresh.
 */
describe('the v1 MCP SDK client signs its user in at a config URL', () => {
  let stack: Stack;
  let app: LoopbackServer;
  let config: ApiConfig;

  beforeAll(async () => {
    app = await serveAppLogin(() => stack, 'jane-doe');
    stack = await startStack({ listen: true, env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: `${app.url}/login` } });
    config = await createSeedConfig(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await app?.close();
  });

  it('runs from a 401 through DCR, PKCE, the consent page with inline connect, tool calls and a refresh', async () => {
    const provider = new V1MemoryProvider();
    const first = new Client({ name: 'v1-oauth-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider });
    await expect(first.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);

    // Discovery found us from the 401, DCR registered the client, the request carries PKCE S256
    // and the config URL as its resource.
    expect(provider.info?.client_id).toMatch(/^mcpc_/);
    const authorizationUrl = provider.authorizationUrl as URL;
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${stack.url}/mcp-oauth/authorize`);
    expect(authorizationUrl.searchParams.get('resource')).toBe(config.mcp_server_url);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');

    const browser = new TestBrowser();
    const reached = await browser.follow(authorizationUrl, (u) => u.origin === new URL(REDIRECT_URI).origin);
    const consentUrl = reached.url;
    expect(consentUrl.pathname).toMatch(/^\/mcp-oauth\/consent\//);
    let html = await reached.response.text();
    expect(html).toContain('V1 Agent');
    expect(html).toContain('for jane-doe?');
    expect(html).toContain(' disabled>Allow');
    for (const connection of ['MY_GMAIL', 'MY_CALENDAR']) {
      const opened = await browser.request(new URL(`${consentUrl.pathname}/connect`, consentUrl), {
        form: formFields(html, '/connect', ['connection', connection]),
      });
      expect(opened.status).toBe(303);
      const done = await stack.consent(opened.headers.get('location') ?? '', { email: 'jane.doe@example.com' });
      expect(done.status).toBe(200);
    }
    html = await (await browser.request(consentUrl)).text();
    expect(html.match(/>ACTIVE</g)?.length).toBe(2);
    const decided = await browser.request(consentUrl, {
      form: formFields(html, consentUrl.pathname, ['decision', 'allow']),
    });
    expect(decided.status).toBe(303);
    const callback = new URL(decided.headers.get('location') ?? '');
    expect(callback.searchParams.get('state')).toBe('v1-state');
    expect(callback.searchParams.get('iss')).toBe(stack.url);

    // The v1 transport takes the bare code.
    await transport.finishAuth(callback.searchParams.get('code') as string);
    expect(provider.saved?.token_type).toBe('Bearer');

    const client = new Client({ name: 'v1-oauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(SEED_TOOLS);
    const mails = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect((mails as CallToolResult).isError, textOf(mails)).toBeFalsy();
    const start = new Date(Date.now() + 15 * 60_000);
    start.setUTCSeconds(0, 0);
    const event = await client.callTool({
      name: 'googlecalendar_create_event',
      arguments: { summary: 'Reminder', start_datetime: start.toISOString(), event_duration_minutes: 15 },
    });
    expect((event as CallToolResult).isError, textOf(event)).toBeFalsy();
    expect(textOf(event)).toContain('Reminder');
    await client.close();

    // An access token the server no longer accepts: the v1 client refreshes by itself on the
    // 401, the refresh token rotates, and the retried call goes through.
    const before = provider.saved as OAuthTokens;
    provider.saved = { ...before, access_token: 'expired' };
    const again = new Client({ name: 'v1-oauth-test', version: '1.0.0' });
    await again.connect(new StreamableHTTPClientTransport(new URL(config.mcp_server_url), { authProvider: provider }));
    const fetched = await again.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect((fetched as CallToolResult).isError, textOf(fetched)).toBeFalsy();
    const after = provider.saved as OAuthTokens;
    expect(after.access_token).not.toBe('expired');
    expect(after.refresh_token).toBeTruthy();
    expect(after.refresh_token).not.toBe(before.refresh_token);
    await again.close();

    const grants = await stack.api<{ grants: { client_name: string; config_id: string }[] }>(
      'GET',
      '/api/v1/mcp/oauth/grants?identifier=jane-doe',
    );
    expect(grants.body.grants.map((g) => [g.client_name, g.config_id])).toEqual([['V1 Agent', config.id]]);
  });
});
