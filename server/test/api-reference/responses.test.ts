import { createHash, randomBytes } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formFields, TestBrowser } from '../mcp-oauth/browser.js';
import { type RunningSandbox, startSandbox } from '../support/sandbox.js';
import { type Stack, startStack } from '../support/stack.js';

type Json = Record<string, unknown>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const LOGIN_URL = 'https://app.example/login';
const VERIFY_URL = 'https://app.example/verify';

/**
 * Every documented answer, seen for real: the app is driven through its normal flows (connect an
 * account through the sandbox's consent, run a tool, sign an MCP client in) and each answer is
 * checked against the operation it came from in /openapi.json — its status must be listed, its
 * content type match, and a JSON body validate against the response schema (ajv, all errors).
 * The last test fails while any operation's success answer was never seen.
 */
describe('real answers validate against /openapi.json', () => {
  let stack: Stack;
  let idp: RunningSandbox;
  let spec: Json;
  let ajv: Ajv2020;
  const validators = new Map<string, ValidateFunction>();
  /** "get /api/v1/connections 200": the success answers validated so far. */
  const seen = new Set<string>();

  beforeAll(async () => {
    // The OpenID Connect issuer of the MCP sign-in's OIDC mode: a second sandbox on loopback.
    idp = await startSandbox();
    stack = await startStack({
      env: {
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: idp.url,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: 'switchboard-mcp-login',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-client-secret',
        SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email',
      },
    });
    spec = (await (await stack.fetch(`${stack.url}/openapi.json`)).json()) as Json;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
  });
  afterAll(async () => {
    await stack?.close();
    await idp?.close();
  });

  function operation(method: Method, path: string): Json {
    const op = (spec.paths as Record<string, Record<string, Json>>)[path]?.[method];
    expect(op, `${method.toUpperCase()} ${path} is not in the reference`).toBeDefined();
    return op as Json;
  }

  /** Checks one real answer against its operation; returns the body (parsed when JSON). */
  async function check(method: Method, path: string, res: Response): Promise<Json> {
    const text = await res.text();
    const where = `${method.toUpperCase()} ${path} → ${res.status}`;
    const responses = operation(method, path).responses as Record<string, Json>;
    const listed = responses[String(res.status)];
    expect(listed, `${where} is not a listed answer: ${text.slice(0, 300)}`).toBeDefined();
    const content = listed?.content as Record<string, { schema: Json }> | undefined;
    let body: Json = {};
    if (!content) {
      if (res.status >= 300 && res.status < 400) expect(res.headers.get('location'), where).toBeTruthy();
      else expect(text, `${where} has a body the reference does not describe`).toBe('');
    } else {
      const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      expect(Object.keys(content), `${where} answered ${type}`).toContain(type);
      // Server-sent events: each data line one message of the schema in x-event-data.
      const events = type === 'text/event-stream';
      if (type === 'application/json' || events) {
        const data = text.split('\n').filter((line) => line.startsWith('data:'));
        body = JSON.parse(events ? (data.at(-1)?.slice(5) ?? '') : text) as Json;
        const key = `${method} ${path} ${res.status}`;
        let validate = validators.get(key);
        if (!validate) {
          const described = (events ? (content[type] as Json)['x-event-data'] : content[type]?.schema) as Json;
          validate = ajv.compile({ ...described, components: spec.components });
          validators.set(key, validate);
        }
        expect(validate(body), `${where}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`).toBe(true);
      }
    }
    if (res.status < 400 || res.status === 405) seen.add(`${method} ${path} ${res.status}`);
    return body;
  }

  /** A management API call with the admin token, checked. */
  async function api(method: Method, path: string, url: string, body?: unknown): Promise<Json> {
    const res = await stack.fetch(`${stack.url}${url}`, {
      method: method.toUpperCase(),
      headers: {
        authorization: `Bearer ${await stack.token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = await check(method, path, res);
    expect(res.status, `${method} ${url}: ${JSON.stringify(parsed)}`).toBeLessThan(300);
    return parsed;
  }

  async function page(method: Method, path: string, url: string | URL, browser?: TestBrowser, form?: Json) {
    const target = new URL(url, stack.url);
    const res = browser
      ? await browser.request(target, form ? { form: form as Record<string, string> } : {})
      : await stack.fetch(target, { redirect: 'manual' });
    await check(method, path, res);
    return res;
  }

  async function mcp(method: Method, path: string, url: string, message?: Json, token?: string) {
    const res = await stack.fetch(url, {
      method: method.toUpperCase(),
      headers: {
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        ...(message ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: message ? JSON.stringify(message) : undefined,
    });
    return check(method, path, res);
  }

  const ids: Record<string, string> = {};

  it('the token endpoint, connections and API clients', async () => {
    const res = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: stack.admin.client_id,
        client_secret: stack.admin.client_secret,
      }),
    });
    await check('post', '/oauth/token', res);

    const gmail = await api('post', '/api/v1/connections', '/api/v1/connections', {
      name: 'MY_GMAIL',
      provider: 'gmail',
    });
    ids.gmail = (gmail.connection as Json).id as string;
    await api('post', '/api/v1/connections', '/api/v1/connections', {
      name: 'MY_CALENDAR',
      provider: 'googlecalendar',
    });
    const spare = await api('post', '/api/v1/connections', '/api/v1/connections', {
      name: 'SPARE',
      provider: 'gmail',
      oauth_client_id: 'id.apps.example',
      oauth_client_secret: 'shh',
      scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      user_verify_url: VERIFY_URL,
    });
    const spareId = (spare.connection as Json).id as string;
    await api('get', '/api/v1/connections', '/api/v1/connections?page_size=1');
    await api('get', '/api/v1/connections/app', '/api/v1/connections/app');
    await api('get', '/api/v1/connections/{id}', `/api/v1/connections/${spareId}`);
    await api('patch', '/api/v1/connections/{id}', `/api/v1/connections/${spareId}`, { user_verify_url: null });
    await api('delete', '/api/v1/connections/{id}', `/api/v1/connections/${spareId}`);

    const created = await api('post', '/api/v1/clients', '/api/v1/clients', { name: 'reader', scope: 'read' });
    const clientId = (created.client as Json).id as string;
    await api('get', '/api/v1/clients', '/api/v1/clients');
    await api('get', '/api/v1/clients/{id}', `/api/v1/clients/${clientId}`);
    await api('post', '/api/v1/clients/{id}:rotate_secret', `/api/v1/clients/${clientId}:rotate_secret`);
    const revoked = await api('post', '/api/v1/clients/{id}:revoke', `/api/v1/clients/${clientId}:revoke`);
    expect((revoked.client as Json).revoked_at).toBeTruthy();
  });

  it('connected accounts: a link, the consent pages, user verification, tokens stored, events', async () => {
    // The plain flow: link → /connect/{token} → the sandbox's consent → /oauth/callback (200 page).
    const link = await api('post', '/api/v1/connected_accounts/magic_link', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
    });
    const opened = await page('get', '/connect/{token}', link.link as string);
    const authorize = new URL(opened.headers.get('location') ?? '');
    authorize.searchParams.set('login_hint', 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    const callback = (await stack.fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '';
    await page('get', '/oauth/callback', callback);

    // With user verification: the callback sends the browser on (302), the app verifies.
    const verifying = await api(
      'post',
      '/api/v1/connected_accounts/magic_link',
      '/api/v1/connected_accounts/magic_link',
      {
        connector: 'MY_CALENDAR',
        identifier: 'john-doe',
        user_verify_url: VERIFY_URL,
        state: 'app-state',
      },
    );
    const toProvider = await stack.fetch(verifying.link as string, { redirect: 'manual' });
    const consent = new URL(toProvider.headers.get('location') ?? '');
    consent.searchParams.set('login_hint', 'john.doe@example.com');
    consent.searchParams.set('sandbox_auto_consent', 'allow');
    const back = (await stack.fetch(consent, { redirect: 'manual' })).headers.get('location') ?? '';
    const toApp = await page('get', '/oauth/callback', back);
    const verifyAt = new URL(toApp.headers.get('location') ?? '');
    expect(verifyAt.origin + verifyAt.pathname).toBe(VERIFY_URL);
    const verified = await api(
      'post',
      '/api/v1/connected_accounts/user/verify',
      '/api/v1/connected_accounts/user/verify',
      {
        auth_request_id: verifyAt.searchParams.get('auth_request_id'),
        identifier: 'john-doe',
      },
    );
    await page('get', '/connect/verified', verified.post_user_verify_redirect_url as string);

    const details = await api(
      'get',
      '/api/v1/connected_accounts/details',
      '/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=john-doe',
    );
    ids.account = (details.connected_account as Json).id as string;
    expect((details.connected_account as Json).status).toBe('ACTIVE');
    await api('get', '/api/v1/connected_accounts/auth', `/api/v1/connected_accounts/auth?id=${ids.account}`);
    await api('get', '/api/v1/connected_accounts/{id}', `/api/v1/connected_accounts/${ids.account}`);
    await api('get', '/api/v1/connected_accounts/{id}/events', `/api/v1/connected_accounts/${ids.account}/events`);
    const listed = await api('get', '/api/v1/connected_accounts', '/api/v1/connected_accounts');
    expect((listed.connected_accounts as Json[]).length).toBe(2);
    await api('get', '/api/v1/connected_accounts:search', '/api/v1/connected_accounts:search?query=john');

    // Tokens obtained elsewhere, replaced, then the account disconnected and deleted both ways.
    const token = { access_token: 'ya29.elsewhere', refresh_token: 'r1', scopes: ['x'], expires_in: 3600 };
    await api('post', '/api/v1/connected_accounts', '/api/v1/connected_accounts', {
      connector: 'MY_GMAIL',
      identifier: 'jane',
      connected_account: { authorization_details: { oauth_token: token } },
    });
    await api('put', '/api/v1/connected_accounts', '/api/v1/connected_accounts', {
      connector: 'MY_GMAIL',
      identifier: 'jane',
      connected_account: { authorization_details: { oauth_token: { ...token, access_token: 'ya29.new' } } },
    });
    const ref = { connector: 'MY_GMAIL', identifier: 'jane' };
    await api('post', '/api/v1/connected_accounts:disconnect', '/api/v1/connected_accounts:disconnect', ref);
    await api('post', '/api/v1/connected_accounts:delete', '/api/v1/connected_accounts:delete', ref);
    const other = await api('post', '/api/v1/connected_accounts', '/api/v1/connected_accounts', {
      connector: 'MY_CALENDAR',
      identifier: 'jane',
    });
    const otherId = (other.connected_account as Json).id as string;
    await api('post', '/api/v1/connected_accounts/{id}:disconnect', `/api/v1/connected_accounts/${otherId}:disconnect`);
    await api('delete', '/api/v1/connected_accounts/{id}', `/api/v1/connected_accounts/${otherId}`);
  });

  it('tools: listed, run for the user, audited', async () => {
    await api('get', '/api/v1/tools', '/api/v1/tools?filter.provider=gmail');
    await api('get', '/api/v1/tools/scoped', '/api/v1/tools/scoped?identifier=john-doe');
    await api('get', '/api/v1/tools/available', '/api/v1/tools/available?identifier=john-doe');
    const run = await api('post', '/api/v1/execute_tool', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: { max_results: 1 },
    });
    const logs = await api(
      'get',
      '/api/v1/agentkit/tool_call_logs',
      `/api/v1/agentkit/tool_call_logs?execution_id=${run.execution_id as string}`,
    );
    expect((logs.tool_call_logs as Json[]).length).toBe(1);
  });

  it('MCP configs and instances, and their MCP servers', async () => {
    const created = await api('post', '/api/v1/mcp/configs', '/api/v1/mcp/configs', {
      name: 'reminder-manager',
      description: 'Reads mail and creates reminder events',
      connection_tool_mappings: [
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
        { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
      ],
    });
    const config = created.config as Json;
    ids.config = config.id as string;
    ids.configUrl = config.mcp_server_url as string;
    const spare = await api('post', '/api/v1/mcp/configs', '/api/v1/mcp/configs', { name: 'spare' });
    const spareId = (spare.config as Json).id as string;
    await api('get', '/api/v1/mcp/configs', '/api/v1/mcp/configs');
    await api('get', '/api/v1/mcp/configs/{id}', `/api/v1/mcp/configs/${spareId}`);
    await api('put', '/api/v1/mcp/configs/{id}', `/api/v1/mcp/configs/${spareId}`, { description: 'spare' });
    await api('delete', '/api/v1/mcp/configs/{id}', `/api/v1/mcp/configs/${spareId}`);
    await api(
      'post',
      '/api/v1/mcp/configs/{id}/connected_accounts',
      `/api/v1/mcp/configs/${ids.config}/connected_accounts`,
      {
        identifier: 'mary',
        include_auth_link: true,
      },
    );
    const session = await api('post', '/api/v1/mcp/configs/{id}/tokens', `/api/v1/mcp/configs/${ids.config}/tokens`, {
      identifier: 'john-doe',
    });

    const ensured = await api('post', '/api/v1/mcp/instances', '/api/v1/mcp/instances', {
      config_name: 'reminder-manager',
      user_identifier: 'john-doe',
    });
    await api('post', '/api/v1/mcp/instances', '/api/v1/mcp/instances', {
      config_name: 'reminder-manager',
      user_identifier: 'john-doe',
    });
    const instance = ensured.instance as Json;
    const id = instance.id as string;
    await api('get', '/api/v1/mcp/instances', '/api/v1/mcp/instances');
    await api('get', '/api/v1/mcp/instances/{id}', `/api/v1/mcp/instances/${id}`);
    await api('patch', '/api/v1/mcp/instances/{id}', `/api/v1/mcp/instances/${id}`, { name: 'johns' });
    await api('post', '/api/v1/mcp/instances/{id}:get_auth_state', `/api/v1/mcp/instances/${id}:get_auth_state`, {
      include_auth_links: true,
    });
    const rotated = await api(
      'post',
      '/api/v1/mcp/instances/{id}:rotate_url',
      `/api/v1/mcp/instances/${id}:rotate_url`,
    );
    const url = (rotated.instance as Json).url as string;

    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'gmail_fetch_mails', arguments: {} } };
    for (const [path, at] of [
      ['/mcp/i/{secret}', url],
      ['/mcp/i/{secret}/mcp', `${url}/mcp`],
    ] as const) {
      await mcp('post', path, at, { jsonrpc: '2.0', id: 1, method: 'ping' });
      await mcp('post', path, at, { jsonrpc: '2.0', method: 'notifications/initialized' });
      await mcp('get', path, at);
      await mcp('delete', path, at);
    }
    const result = await mcp('post', '/mcp/i/{secret}', url, call);
    expect((result.result as Json).isError).toBeFalsy();
    const token = session.token as string;
    await mcp('post', '/mcp/c/{configId}', ids.configUrl, { jsonrpc: '2.0', id: 7, method: 'tools/list' }, token);
    await mcp(
      'post',
      '/mcp/c/{configId}',
      ids.configUrl,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      token,
    );
    await mcp('get', '/mcp/c/{configId}', ids.configUrl, undefined, token);
    await mcp('delete', '/mcp/c/{configId}', ids.configUrl, undefined, token);
    await api('post', '/api/v1/mcp/configs/{id}/tokens:revoke', `/api/v1/mcp/configs/${ids.config}/tokens:revoke`, {
      identifier: 'john-doe',
    });
    await api('delete', '/api/v1/mcp/instances/{id}', `/api/v1/mcp/instances/${id}`);
  });

  it('the well-known documents', async () => {
    for (const path of ['/.well-known/jwks.json', '/keys', '/.well-known/oauth-authorization-server']) {
      await check('get', path, await stack.fetch(`${stack.url}${path}`));
    }
    const resource = `/.well-known/oauth-protected-resource/mcp/c/${ids.config}`;
    await check(
      'get',
      '/.well-known/oauth-protected-resource/mcp/c/{configId}',
      await stack.fetch(`${stack.url}${resource}`),
    );
  });

  /** Registers a client, sends a browser to authorize; returns the browser, the verifier and the first hop. */
  async function authorize(browser: TestBrowser) {
    const registration = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Hand Client',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }),
    });
    const clientId = (await check('post', '/mcp-oauth/register', registration)).client_id as string;
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${stack.url}/mcp-oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: ids.configUrl as string,
    }).toString();
    const first = await page('get', '/mcp-oauth/authorize', url, browser);
    return { clientId, verifier, location: new URL(first.headers.get('location') ?? '') };
  }

  async function tokenCall(form: Record<string, string>, path = '/mcp-oauth/token') {
    const res = await stack.fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return check('post', path, res);
  }

  it('the MCP sign-in: the app’s login hand-off, consent, tokens, grants; and the OIDC issuer’s way back', async () => {
    const configAccess = `/api/v1/mcp/configs/${ids.config}/access`;
    await api('put', '/api/v1/mcp/configs/{id}/access', configAccess, {
      oauth_enabled: true,
      login_url: LOGIN_URL,
      login_mode: 'app',
      require_active_accounts: true,
    });
    await api('get', '/api/v1/mcp/configs/{id}/access', configAccess);

    const browser = new TestBrowser(stack.fetch);
    const { clientId, verifier, location } = await authorize(browser);
    expect(location.origin + location.pathname).toBe(LOGIN_URL);
    // mary has no account yet: the consent page offers to connect each connection.
    const verified = await api('post', '/api/v1/mcp/oauth/user/verify', '/api/v1/mcp/oauth/user/verify', {
      auth_request_id: location.searchParams.get('auth_request_id'),
      identifier: 'mary',
    });
    const consentUrl = new URL(verified.post_user_verify_redirect_url as string);
    const consentPath = '/mcp-oauth/consent/{id}';
    await page('get', consentPath, consentUrl, browser);
    let html = await (await browser.request(consentUrl)).text();
    for (const connection of ['MY_GMAIL', 'MY_CALENDAR']) {
      const toConnect = await page(
        'post',
        '/mcp-oauth/consent/{id}/connect',
        new URL(`${consentUrl.pathname}/connect`, consentUrl),
        browser,
        formFields(html, '/connect', ['connection', connection]),
      );
      expect((await stack.consent(toConnect.headers.get('location') ?? '')).status).toBe(200);
    }
    html = await (await browser.request(consentUrl)).text();
    const decided = await page(
      'post',
      consentPath,
      consentUrl,
      browser,
      formFields(html, consentUrl.pathname, ['decision', 'allow']),
    );
    const code = new URL(decided.headers.get('location') ?? '').searchParams.get('code') as string;
    const tokens = await tokenCall({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
    });
    const refreshed = await tokenCall({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: clientId,
    });
    await mcp(
      'post',
      '/mcp/c/{configId}',
      ids.configUrl as string,
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      refreshed.access_token as string,
    );
    await tokenCall({ token: refreshed.refresh_token as string, client_id: clientId }, '/mcp-oauth/revoke');

    const grants = await api('get', '/api/v1/mcp/oauth/grants', '/api/v1/mcp/oauth/grants?include_revoked=true');
    const grantId = ((grants.grants as Json[])[0] as Json).id as string;
    await api('get', '/api/v1/mcp/oauth/grants/{id}', `/api/v1/mcp/oauth/grants/${grantId}`);
    await api('post', '/api/v1/mcp/oauth/grants/{id}:revoke', `/api/v1/mcp/oauth/grants/${grantId}:revoke`);

    // OIDC mode: the issuer (the second sandbox) signs john in and sends the browser back.
    await api('put', '/api/v1/mcp/configs/{id}/access', configAccess, { login_mode: 'oidc' });
    const oidc = new TestBrowser(stack.fetch);
    const atIssuer = (await authorize(oidc)).location;
    expect(atIssuer.origin).toBe(new URL(idp.url).origin);
    atIssuer.searchParams.set('login_hint', 'john.doe@example.com');
    atIssuer.searchParams.set('sandbox_auto_consent', 'allow');
    const back = new URL((await oidc.request(atIssuer)).headers.get('location') ?? '');
    const toConsent = await page('get', '/mcp-oauth/oidc/callback', back, oidc);
    expect(new URL(toConsent.headers.get('location') ?? '').pathname).toMatch(/^\/mcp-oauth\/consent\//);
  });

  it('saw every documented success answer at least once', () => {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const statuses = Object.keys(op.responses as Json).map(Number);
        const success = statuses.filter((s) => s < 400);
        // GET and DELETE at the stateless MCP servers only ever answer 405.
        for (const status of success.length ? success : statuses.filter((s) => s === 405)) {
          if (!seen.has(`${method} ${path} ${status}`)) missing.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(seen.size).toBeGreaterThan(80);
  });
});
