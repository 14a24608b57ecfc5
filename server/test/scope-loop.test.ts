import type { McpAuthState } from '@switchboard/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardClient } from './dashboard/dashboard-client.js';
import { connectV2 } from './mcp/support.js';
import { type Stack, startStack } from './support/stack.js';

const CONTACTS_READONLY = 'https://www.googleapis.com/auth/contacts.readonly';
const GMAIL_MODIFY = 'https://www.googleapis.com/auth/gmail.modify';

describe('a tool that needs a scope the connection does not request (incremental authorization)', () => {
  let stack: Stack;
  let accountId: string;
  let instanceId: string;
  const authState = async (include: boolean) => {
    const answer = await stack.api<McpAuthState>('POST', `/api/v1/mcp/instances/${instanceId}:get_auth_state`, {
      include_auth_links: include,
    });
    expect(answer.status).toBe(200);
    const [state] = answer.body.connections;
    if (!state) throw new Error('no connection in the auth state');
    return state;
  };
  const getContacts = () =>
    stack.api<{ error?: { code: string; message: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_get_contacts',
      connected_account_id: accountId,
      params: {},
    });

  beforeAll(async () => {
    stack = await startStack();
    // The provider's default scopes (gmail.modify, gmail.settings.basic): no contacts.
    await stack.createConnection('MY_GMAIL', 'gmail', { target: 'sandbox' });
    accountId = await stack.connectAccount('MY_GMAIL', 'john-doe');
    const config = await stack.api('POST', '/api/v1/mcp/configs', {
      name: 'contacts-helper',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_get_contacts'] }],
    });
    expect(config.status).toBe(201);
    const instance = await stack.api<{ instance: { id: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'contacts-helper',
      user_identifier: 'john-doe',
    });
    instanceId = instance.body.instance.id;
  });
  afterAll(() => stack?.close());

  it('fails, shows the account as needing re-authorization, and works after one consent through the auth-state link', async () => {
    const refused = await getContacts();
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('insufficient_scope');

    const before = await authState(true);
    expect(before).toMatchObject({
      connected_account_status: 'ACTIVE',
      needs_reauthorization: true,
      missing_scopes: [CONTACTS_READONLY],
    });
    expect(before.required_scopes).toEqual(expect.arrayContaining([GMAIL_MODIFY, CONTACTS_READONLY]));
    expect(before.authentication_link).toMatch(/\/connect\//);
    // The dashboard names the state on the user's page too.
    const dashboard = new DashboardClient(stack);
    await dashboard.signIn();
    const userPage = async () => (await dashboard.get('/dashboard/user?identifier=john-doe')).text();
    expect(await userPage()).toContain('needs re-authorization');
    expect(await userPage()).toContain(CONTACTS_READONLY);

    // The link asks for the union, and for the scopes granted before to be kept.
    const opened = await stack.fetch(before.authentication_link, { redirect: 'manual' });
    const authorize = new URL(opened.headers.get('location') ?? '');
    expect(authorize.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([GMAIL_MODIFY, CONTACTS_READONLY]),
    );
    expect(authorize.searchParams.get('include_granted_scopes')).toBe('true');

    const done = await stack.consent(before.authentication_link);
    expect(done.status).toBe(200);

    const worked = await getContacts();
    expect(worked.status, JSON.stringify(worked.body)).toBe(200);
    expect(await userPage()).not.toContain('needs re-authorization');
    const after = await authState(true);
    expect(after).toMatchObject({
      connected_account_status: 'ACTIVE',
      needs_reauthorization: false,
      missing_scopes: [],
      authentication_link: '',
    });
    const account = await stack.api<{
      connected_account: { authorization_details: { oauth_token: { scopes: string[] } } };
    }>('GET', `/api/v1/connected_accounts/${accountId}`);
    expect(account.body.connected_account.authorization_details.oauth_token.scopes).toEqual(
      expect.arrayContaining([GMAIL_MODIFY, CONTACTS_READONLY]),
    );
  });

  it("shows each config's scope needs on the dashboard's config page", async () => {
    const dashboard = new DashboardClient(stack);
    const csrf = await dashboard.signIn();
    const configs = await stack.api<{ configs: { id: string; name: string }[] }>('GET', '/api/v1/mcp/configs');
    const id = configs.body.configs.find((c) => c.name === 'contacts-helper')?.id;
    const page = await (await dashboard.get(`/dashboard/mcp-configs/${id}`)).text();
    expect(page).toContain('Scopes needed');
    expect(page).toContain(CONTACTS_READONLY);
    expect(page).toContain('beyond the connection');

    // A link made on the user's page asks for what the user's configs need too.
    const accounts = await stack.api<{ connected_accounts: { connection_id: string }[] }>(
      'GET',
      '/api/v1/connected_accounts?identifier=john-doe',
    );
    const made = await dashboard.post('/dashboard/user/auth-link', {
      _csrf: csrf,
      identifier: 'john-doe',
      connection_id: accounts.body.connected_accounts[0]?.connection_id ?? '',
    });
    const link = /<code id="auth-link">([^<]+)<\/code>/.exec(await made.text())?.[1] ?? '';
    const opened = await stack.fetch(link.replaceAll('&amp;', '&'), { redirect: 'manual' });
    const scopes = new URL(opened.headers.get('location') ?? '').searchParams.get('scope')?.split(' ');
    expect(scopes).toEqual(expect.arrayContaining([GMAIL_MODIFY, CONTACTS_READONLY]));
  });

  it('hands an agent of a user not connected yet a link that asks for the config’s scopes at once', async () => {
    const instance = await stack.api<{ instance: { url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'contacts-helper',
      user_identifier: 'new-user',
    });
    const client = await connectV2(stack, instance.body.instance.url);
    try {
      const result = await client.callTool({ name: 'gmail_get_contacts', arguments: {} });
      expect(result.isError).toBe(true);
      const text = JSON.stringify(result.content);
      const link = /(http:\/\/[^\s"\\]+\/connect\/[A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';
      expect(link).not.toBe('');
      const opened = await stack.fetch(link, { redirect: 'manual' });
      const scopes = new URL(opened.headers.get('location') ?? '').searchParams.get('scope')?.split(' ');
      expect(scopes).toEqual(expect.arrayContaining([GMAIL_MODIFY, CONTACTS_READONLY]));
    } finally {
      await client.close();
    }
  });
});
