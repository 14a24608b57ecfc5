import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

const REAL_SECRET = 'REAL-GOOGLE-CLIENT-SECRET-1234';
const PROVIDER_REFRESH = 'PROVIDER-REFRESH-TOKEN-5678';
const PROVIDER_ACCESS = 'PROVIDER-ACCESS-TOKEN-9012';

interface Seen {
  url: string;
  text: string;
}

const isGoogle = (url: string) => /(^|\.)google(apis)?\.com$/.test(new URL(url).hostname);

describe.each(ENGINES)('switching a connection between provider and sandbox (%s)', (engine) => {
  let stack: Stack;
  const seen: Seen[] = [];
  let forward: typeof fetch = globalThis.fetch;
  /** Runs once, as the server's next authorization-code exchange goes out to the sandbox. */
  let duringCodeExchange: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // Every request the server makes (OAuth and provider APIs) is recorded; Google is faked.
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const body = request.body ? await request.clone().text() : '';
      seen.push({ url: request.url, text: `${request.url}\n${JSON.stringify([...request.headers])}\n${body}` });
      if (isGoogle(request.url)) {
        if (request.url.includes('/token')) {
          return Response.json({ access_token: 'fresh-provider-access', expires_in: 3600, token_type: 'Bearer' });
        }
        return Response.json({ error: { code: 500, message: 'fake google' } }, { status: 500 });
      }
      if (duringCodeExchange && request.url.startsWith(stack.sandbox.url) && body.includes('authorization_code')) {
        const hook = duringCodeExchange;
        duringCodeExchange = undefined;
        await hook();
      }
      return forward(request);
    };
    stack = await startStack({ engine, fetch: recording });
    forward = stack.fetch;
  });
  afterAll(() => stack?.close());

  const details = (connector: string, identifier: string) =>
    stack.api<{ connected_account: { id: string; status: string } }>(
      'GET',
      `/api/v1/connected_accounts/details?connector=${connector}&identifier=${identifier}`,
    );

  const fetchMails = (connector: string, identifier: string) =>
    stack.api<{ error?: { code: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector,
      identifier,
      params: { max_results: 1 },
    });

  it('provider → sandbox needs confirm_target_change, drops the grants, and never sends the provider secret or tokens to the sandbox', async () => {
    const connection = await stack.createConnection('REAL_GMAIL', 'gmail', {
      target: 'provider',
      oauth_client_id: 'real-client-id.apps.googleusercontent.com',
      oauth_client_secret: REAL_SECRET,
    });
    // A grant obtained at Google, close to expiry so that any use would refresh it.
    const created = await stack.api('POST', '/api/v1/connected_accounts', {
      connector: 'REAL_GMAIL',
      identifier: 'switcher',
      connected_account: {
        authorization_details: {
          oauth_token: { access_token: PROVIDER_ACCESS, refresh_token: PROVIDER_REFRESH, expires_in: 30 },
        },
      },
    });
    expect(created.status).toBe(201);
    expect((await details('REAL_GMAIL', 'switcher')).body.connected_account.status).toBe('ACTIVE');

    const unconfirmed = await stack.api<{ error: { code: string; message: string } }>(
      'PATCH',
      `/api/v1/connections/${connection.id}`,
      { target: 'sandbox' },
    );
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error.message).toContain('confirm_target_change');
    expect((await details('REAL_GMAIL', 'switcher')).body.connected_account.status).toBe('ACTIVE');

    const switched = await stack.api<{ connection: { target: string; oauth_client_id: string } }>(
      'PATCH',
      `/api/v1/connections/${connection.id}`,
      { target: 'sandbox', confirm_target_change: true },
    );
    expect(switched.status).toBe(200);
    expect(switched.body.connection.target).toBe('sandbox');
    expect(switched.body.connection.oauth_client_id).not.toContain('googleusercontent');
    expect((await details('REAL_GMAIL', 'switcher')).body.connected_account.status).toBe('PENDING_AUTH');
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .select(['tokens_enc', 'key_id', 'status_reason'])
      .where('identifier', '=', 'switcher')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tokens_enc: null, key_id: null, status_reason: 'target_changed' });

    const refused = await fetchMails('REAL_GMAIL', 'switcher');
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('account_not_connected');

    // A new consent at the sandbox works as for any sandbox connection.
    await stack.connectAccount('REAL_GMAIL', 'switcher');
    expect((await details('REAL_GMAIL', 'switcher')).body.connected_account.status).toBe('ACTIVE');
    expect((await fetchMails('REAL_GMAIL', 'switcher')).status).toBe(200);

    const toSandbox = seen.filter((s) => s.url.startsWith(stack.sandbox.url));
    expect(toSandbox.some((s) => s.url.includes('/token'))).toBe(true);
    for (const request of toSandbox) {
      expect(request.text).not.toContain(REAL_SECRET);
      expect(request.text).not.toContain(PROVIDER_REFRESH);
      expect(request.text).not.toContain(PROVIDER_ACCESS);
    }
  });

  it('sandbox → provider needs the real OAuth app and the flag, drops the grants, and sends nothing to Google', async () => {
    const connection = await stack.createConnection('SB_GMAIL', 'gmail');
    await stack.connectAccount('SB_GMAIL', 'mover');
    const before = seen.length;

    const withoutApp = await stack.api('PATCH', `/api/v1/connections/${connection.id}`, {
      target: 'provider',
      confirm_target_change: true,
    });
    expect(withoutApp.status).toBe(400);
    const switched = await stack.api('PATCH', `/api/v1/connections/${connection.id}`, {
      target: 'provider',
      confirm_target_change: true,
      oauth_client_id: 'real-client-id.apps.googleusercontent.com',
      oauth_client_secret: REAL_SECRET,
    });
    expect(switched.status).toBe(200);
    expect((await details('SB_GMAIL', 'mover')).body.connected_account.status).toBe('PENDING_AUTH');
    const refused = await fetchMails('SB_GMAIL', 'mover');
    expect(refused.body.error?.code).toBe('account_not_connected');
    expect(seen.slice(before).filter((s) => isGoogle(s.url))).toEqual([]);
  });

  it('a consent whose code is exchanged while the connection switches target stores no tokens', async () => {
    const connection = await stack.createConnection('RACE_GMAIL', 'gmail');
    duringCodeExchange = async () => {
      const switched = await stack.api('PATCH', `/api/v1/connections/${connection.id}`, {
        target: 'provider',
        confirm_target_change: true,
        oauth_client_id: 'real-client-id.apps.googleusercontent.com',
        oauth_client_secret: REAL_SECRET,
      });
      expect(switched.status).toBe(200);
    };
    await expect(stack.connectAccount('RACE_GMAIL', 'racer')).rejects.toThrow(/consent failed: 412.*changed while/s);
    expect(duringCodeExchange).toBeUndefined();
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .select(['status', 'tokens_enc'])
      .where('identifier', '=', 'racer')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'PENDING_AUTH', tokens_enc: null });
    // The sandbox's tokens were handed back there, never kept.
    expect(seen.some((s) => s.url.startsWith(stack.sandbox.url) && s.url.includes('revoke'))).toBe(true);
  });

  it('the same target again is no switch: no flag needed, grants kept', async () => {
    const connection = await stack.createConnection('SAME_GMAIL', 'gmail');
    await stack.connectAccount('SAME_GMAIL', 'stayer');
    const same = await stack.api('PATCH', `/api/v1/connections/${connection.id}`, { target: 'sandbox', scopes: [] });
    expect(same.status).toBe(200);
    expect((await details('SAME_GMAIL', 'stayer')).body.connected_account.status).toBe('ACTIVE');
  });
});
