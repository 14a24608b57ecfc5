import type { CallToolResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, ensureInstance } from './mcp/support.js';
import { manualClock } from './support/clock.js';
import { type LoopbackServer, serveOnLoopback } from './support/loopback.js';
import { type Stack, startStack } from './support/stack.js';

type Account = { id: string; status: string; authorization_details: { oauth_token: { domain: string } } };
type Event = { type: string; detail: Record<string, unknown> };

/** Who may complete a consent, and how often: single-use links, a bound identity, user verification. */
describe('trust in the connect flow', () => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let n = 0;
  const fresh = () => `trust-user-${n++}`;
  beforeAll(async () => {
    stack = await startStack({ clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  const account = async (identifier: string) =>
    (
      await stack.api<{ connected_account: Account }>(
        'GET',
        `/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=${identifier}`,
      )
    ).body.connected_account;
  const link = async (identifier: string, extra: Record<string, unknown> = {}) =>
    (
      await stack.api<{ link: string; expiry: string }>('POST', '/api/v1/connected_accounts/magic_link', {
        connector: 'MY_GMAIL',
        identifier,
        ...extra,
      })
    ).body.link;
  const events = async (accountId: string) =>
    stack.api<{ events: Event[] }>('GET', `/api/v1/connected_accounts/${accountId}/events`);

  it('refuses a link once a consent through it completed, whether it succeeded or was denied', async () => {
    const id = fresh();
    const url = await link(id);
    expect((await stack.consent(url)).status).toBe(200);
    const again = await stack.fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already used');

    const denied = await link(id);
    expect((await stack.consent(denied, { decision: 'deny' })).status).toBe(400);
    expect((await stack.fetch(denied, { redirect: 'manual' })).status).toBe(410);
    expect((await account(id)).status).toBe('ACTIVE');
  });

  it('refuses a second consent started from the same link before the first finished', async () => {
    const id = fresh();
    const url = await link(id);
    const first = new URL((await stack.fetch(url, { redirect: 'manual' })).headers.get('location') ?? '');
    const second = new URL((await stack.fetch(url, { redirect: 'manual' })).headers.get('location') ?? '');
    const callback = async (authorize: URL, email: string) => {
      authorize.searchParams.set('login_hint', email);
      authorize.searchParams.set('sandbox_auto_consent', 'allow');
      return (await stack.fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '';
    };
    const firstBack = await callback(first, 'john.doe@example.com');
    const secondBack = await callback(second, 'jane.doe@example.com');
    expect((await stack.fetch(firstBack)).status).toBe(200);
    const late = await stack.fetch(secondBack);
    expect(late.status).toBe(410);
    expect((await account(id)).authorization_details.oauth_token.domain).toBe('john.doe@example.com');
  });

  it('revokes an older link when a newer one is issued for the same account', async () => {
    const id = fresh();
    const older = await link(id);
    const newer = await link(id);
    const refused = await stack.fetch(older, { redirect: 'manual' });
    expect(refused.status).toBe(410);
    expect(await refused.text()).toContain('newer link');
    expect((await stack.consent(older)).status).toBe(410);
    expect((await account(id)).status).toBe('PENDING_AUTH');
    expect((await stack.consent(newer)).status).toBe(200);
  });

  it('revokes every link at a disconnect', async () => {
    const id = fresh();
    const accountId = await stack.connectAccount('MY_GMAIL', id);
    const pending = await link(id);
    expect((await stack.api('POST', '/api/v1/connected_accounts:disconnect', { id: accountId })).status).toBe(200);
    expect((await stack.fetch(pending, { redirect: 'manual' })).status).toBe(410);
    expect((await account(id)).status).toBe('DISCONNECTED');
  });

  it('refuses a different Google account on a bound identifier until the account is disconnected', async () => {
    const id = fresh();
    const accountId = await stack.connectAccount('MY_GMAIL', id, 'john.doe@example.com');
    const page = await stack.consent(await link(id), { email: 'jane.doe@example.com' });
    expect(page.status).toBe(409);
    const text = await page.text();
    expect(text).toContain('A different account is already connected');
    expect(text).toContain('ask the app for a new link');
    const kept = await account(id);
    expect(kept.status).toBe('ACTIVE');
    expect(kept.authorization_details.oauth_token.domain).toBe('john.doe@example.com');
    const history = (await events(accountId)).body.events;
    expect(history.find((e) => e.type === 'account.identity_mismatch')?.detail).toMatchObject({
      provider_account: 'john.doe@example.com',
      attempted_provider_account: 'jane.doe@example.com',
    });

    // The same Google account may consent again.
    expect((await stack.consent(await link(id), { email: 'john.doe@example.com' })).status).toBe(200);
    // After an explicit reset, another Google account may bind.
    await stack.api('POST', '/api/v1/connected_accounts:disconnect', { id: accountId });
    expect((await stack.consent(await link(id), { email: 'jane.doe@example.com' })).status).toBe(200);
    expect((await account(id)).authorization_details.oauth_token.domain).toBe('jane.doe@example.com');
  });

  it('keeps the Google account a first consent bound when a second, which read the account unbound, finishes after it', async () => {
    const id = fresh();
    const firstLink = await link(id);
    // What a second callback read before the first consent bound the account.
    const { account: stale, connection } = await stack.services.accounts.get({ connector: 'MY_GMAIL', identifier: id });
    expect(stale.provider_subject).toBeNull();
    expect((await stack.consent(firstLink, { email: 'john.doe@example.com' })).status).toBe(200);
    const jane = stack.sandbox.state.oauth.issueTokenDirectly({
      email: 'jane.doe@example.com',
      scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      offline: true,
    });
    await expect(
      stack.services.accounts.activate(
        stale,
        connection,
        { accessToken: jane.access_token, refreshToken: jane.refresh_token, tokenType: 'Bearer' },
        { subject: 'jane-subject', account: 'jane.doe@example.com' },
      ),
    ).rejects.toMatchObject({ code: 'identity_mismatch' });
    const kept = await account(id);
    expect(kept.status).toBe('ACTIVE');
    expect(kept.authorization_details.oauth_token.domain).toBe('john.doe@example.com');
    const profile = await stack.api<{ data: { emailAddress: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_get_profile',
      connector: 'MY_GMAIL',
      identifier: id,
      params: {},
    });
    expect(profile.body.data.emailAddress).toBe('john.doe@example.com');
  });

  it('lists the lifecycle of an account without a token or link secret, and keeps it after delete', async () => {
    const id = fresh();
    const url = await link(id);
    const accountId = (await account(id)).id;
    await stack.consent(url);
    await stack.api('POST', '/api/v1/connected_accounts:disconnect', { id: accountId });
    await stack.api('POST', '/api/v1/connected_accounts:delete', { id: accountId });
    const listed = await events(accountId);
    expect(listed.status).toBe(200);
    expect(listed.body.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'account.link_issued',
        'account.consent_completed',
        'account.disconnected',
        'account.deleted',
      ]),
    );
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(new URL(url).pathname.split('/').pop());
    expect(text).not.toMatch(/ya29\.|access_token|refresh_token/);
    const rows = await stack.db.db.selectFrom('account_events').select('detail').execute();
    expect(JSON.stringify(rows)).not.toContain('/connect/');
    expect((await stack.api('GET', '/api/v1/connected_accounts/ca_unknown/events')).status).toBe(404);
  });
});

/**
 * User verification over real sockets: an app with a one-route verify handler, a browser-like
 * client that follows every redirect, and Switchboard answering on loopback.
 */
describe('user verification', () => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let app: LoopbackServer;
  /** What the app's verify route does with the request (the logged-in user it asserts). */
  let loggedIn = 'verified-user';
  const seen: URLSearchParams[] = [];
  let lastVerify: { status: number; body: Record<string, unknown> } | undefined;

  beforeAll(async () => {
    stack = await startStack({ clock, listen: true });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    app = await serveOnLoopback(async (request) => {
      const url = new URL(request.url);
      // /never: an app that has not confirmed the user (yet).
      if (url.pathname !== '/verify') return new Response('waiting for the app', { status: 200 });
      const query = url.searchParams;
      seen.push(query);
      lastVerify = await stack.api('POST', '/api/v1/connected_accounts/user/verify', {
        auth_request_id: query.get('auth_request_id'),
        identifier: loggedIn,
      });
      const next = lastVerify.body.post_user_verify_redirect_url;
      if (typeof next === 'string') return Response.redirect(next, 302);
      return new Response(JSON.stringify(lastVerify.body), { status: lastVerify.status });
    });
  });
  afterAll(async () => {
    await app?.close();
    await stack?.close();
  });

  const status = async (identifier: string, connector = 'MY_GMAIL') =>
    (
      await stack.api<{ connected_account: Account }>(
        'GET',
        `/api/v1/connected_accounts/details?connector=${connector}&identifier=${identifier}`,
      )
    ).body.connected_account.status;

  /** Opens the link, consents as `email` in the sandbox, then follows every redirect like a browser. */
  const browse = async (link: string, email = 'john.doe@example.com') => {
    const opened = await fetch(link, { redirect: 'manual' });
    const authorize = new URL(opened.headers.get('location') ?? '');
    authorize.searchParams.set('login_hint', email);
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    return fetch(authorize, { redirect: 'follow' });
  };
  const magicLink = async (identifier: string, extra: Record<string, unknown> = {}) =>
    (
      await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
        connector: 'MY_GMAIL',
        identifier,
        user_verify_url: `${app.url}/verify`,
        ...extra,
      })
    ).body.link;

  it('activates the account only after the app confirms the identifier, and lands on the success page', async () => {
    loggedIn = 'verified-user';
    const page = await browse(await magicLink('verified-user', { state: 'opaque-app-state' }));
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${stack.url}/connect/verified`);
    expect(await page.text()).toContain('Your account is connected');
    const query = seen.at(-1);
    expect(query?.get('state')).toBe('opaque-app-state');
    expect(query?.get('auth_request_id')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(lastVerify?.status).toBe(200);
    expect(await status('verified-user')).toBe('ACTIVE');
    const stored = await stack.db.db.selectFrom('user_verifications').select('request_hash').execute();
    expect(JSON.stringify(stored)).not.toContain(query?.get('auth_request_id'));

    // The same auth_request_id again: refused, whatever the identifier.
    const reused = await stack.api('POST', '/api/v1/connected_accounts/user/verify', {
      auth_request_id: query?.get('auth_request_id'),
      identifier: 'verified-user',
    });
    expect(reused.status).toBe(404);
    expect(reused.body).toMatchObject({ error: { code: 'user_verification_used' } });
  });

  it('keeps the account unverified and unusable by tools when the identifier does not match', async () => {
    loggedIn = 'someone-else';
    const page = await browse(await magicLink('victim'), 'jane.doe@example.com');
    expect(page.status).toBe(403);
    expect(lastVerify?.body).toMatchObject({ error: { code: 'user_verification_mismatch' } });
    expect(await status('victim')).toBe('PENDING_VERIFICATION');
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('identifier', '=', 'victim')
      .executeTakeFirstOrThrow();
    expect(row.tokens_enc).toBeNull();
    expect(row.provider_subject).toBeNull();
    const call = await stack.api<{ error: { code: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: 'victim',
      params: {},
    });
    expect(call.body.error.code).toBe('account_not_connected');
  });

  it('refuses an unknown or expired auth_request_id, and the unverified account expires', async () => {
    const unknown = await stack.api('POST', '/api/v1/connected_accounts/user/verify', {
      auth_request_id: 'not-a-real-request',
      identifier: 'x',
    });
    expect(unknown.body).toMatchObject({ error: { code: 'user_verification_invalid' } });

    // The app never answers: the browser stops at the app, which we let do nothing.
    const identifier = 'slow-user';
    const opened = await fetch(await magicLink(identifier, { user_verify_url: `${app.url}/never` }), {
      redirect: 'manual',
    });
    const authorize = new URL(opened.headers.get('location') ?? '');
    authorize.searchParams.set('login_hint', 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    const callback = (await fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '';
    const toApp = await fetch(callback, { redirect: 'manual' });
    expect(toApp.status).toBe(302);
    const verifyUrl = new URL(toApp.headers.get('location') ?? '');
    expect(verifyUrl.origin + verifyUrl.pathname).toBe(`${app.url}/never`);
    expect(verifyUrl.searchParams.has('state')).toBe(false);
    expect(await status(identifier)).toBe('PENDING_VERIFICATION');

    clock.advance(11 * 60_000);
    const late = await stack.api('POST', '/api/v1/connected_accounts/user/verify', {
      auth_request_id: verifyUrl.searchParams.get('auth_request_id'),
      identifier,
    });
    expect(late.status).toBe(404);
    expect(late.body).toMatchObject({ error: { code: 'user_verification_expired' } });
    expect(await status(identifier)).toBe('EXPIRED');
    const accountId = (
      await stack.api<{ connected_account: Account }>(
        'GET',
        `/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=${identifier}`,
      )
    ).body.connected_account.id;
    const history = await stack.api<{ events: Event[] }>('GET', `/api/v1/connected_accounts/${accountId}/events`);
    expect(history.body.events.map((e) => e.type)).toContain('account.verification_expired');
  });

  it('uses the connection default verify URL, and never lets an unverified account reach a tool over MCP', async () => {
    await stack.api('POST', '/api/v1/mcp/configs', {
      name: 'verified-reader',
      connection_tool_mappings: [{ connection_name: 'MY_CALENDAR', tools: ['googlecalendar_list_events'] }],
    });
    const connection = await stack.api<{ connections: { id: string; name: string }[] }>('GET', '/api/v1/connections');
    const calendarId = connection.body.connections.find((c) => c.name === 'MY_CALENDAR')?.id;
    const patched = await stack.api<{ connection: { user_verify_url: string } }>(
      'PATCH',
      `/api/v1/connections/${calendarId}`,
      { user_verify_url: `${app.url}/never` },
    );
    expect(patched.body.connection.user_verify_url).toBe(`${app.url}/never`);

    const instance = await ensureInstance(stack, 'verified-reader', 'mcp-user');
    const state = await stack.api<{ connections: { authentication_link: string }[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      { include_auth_links: true },
    );
    const redirected = await browse(state.body.connections[0]?.authentication_link ?? '');
    expect(new URL(redirected.url).pathname).toBe('/never');
    expect(await status('mcp-user', 'MY_CALENDAR')).toBe('PENDING_VERIFICATION');

    const client = await connectV2({ fetch }, instance.url);
    const result = (await client.callTool({ name: 'googlecalendar_list_events', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('not authorized yet');
    await client.close();
  });
});
