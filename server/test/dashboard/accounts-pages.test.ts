import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { DashboardClient } from './dashboard-client.js';

describe('dashboard: connected accounts, instances, connection scopes and the favicon', () => {
  let stack: Stack;
  let admin: DashboardClient;
  let csrf: string;
  beforeAll(async () => {
    stack = await startStack();
    admin = new DashboardClient(stack);
    csrf = await admin.signIn();
    await stack.createConnection('ACC_GMAIL', 'gmail');
    await stack.createConnection('ACC_CALENDAR', 'googlecalendar');
  });
  afterAll(() => stack?.close());

  const text = async (path: string) => {
    const response = await admin.get(path);
    expect(response.status, path).toBe(200);
    return response.text();
  };
  /** The user identifiers listed in an accounts page, in order. */
  const listed = (page: string) =>
    [...page.matchAll(/<td data-label="User"><a [^>]*><code>([^<]*)<\/code>/g)].map((m) => m[1]);
  const accountId = async (connection: string, identifier: string) =>
    (await stack.services.accounts.get({ connector: connection, identifier })).account.id;

  it('lists every connected account across users, filtered by status and connection, searched by user or Google email', async () => {
    await stack.connectAccount('ACC_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('ACC_CALENDAR', 'jane-roe', 'jane.doe@example.com');
    await stack.services.accounts.create('ACC_GMAIL', 'pending-pat');

    const all = await text('/dashboard/accounts');
    expect(all).toContain('<h1>Connected accounts</h1>');
    expect(all).toContain('aria-current="page">Accounts</a>');
    expect(listed(all)).toEqual(['john-doe', 'jane-roe', 'pending-pat']);
    expect(all).toContain('john.doe@example.com');
    expect(all).toContain('<option value="ACTIVE">ACTIVE (2)</option>');

    expect(listed(await text('/dashboard/accounts?status=PENDING_AUTH'))).toEqual(['pending-pat']);
    // By the Google account's email, in any case, not only by the user identifier.
    expect(listed(await text('/dashboard/accounts?q=JANE.DOE%40example'))).toEqual(['jane-roe']);
    expect(listed(await text('/dashboard/accounts?q=john-'))).toEqual(['john-doe']);
    // LIKE's wildcards are taken literally.
    expect(await text('/dashboard/accounts?q=%25')).toContain('No connected account matches.');
    const calendar = await stack.services.connections.getByName('ACC_CALENDAR');
    expect(listed(await text(`/dashboard/accounts?connection=${calendar.id}`))).toEqual(['jane-roe']);
    // An unknown status is ignored rather than matching nothing.
    expect(listed(await text('/dashboard/accounts?status=BOGUS'))).toHaveLength(3);
  });

  it('pages through the accounts 50 at a time, keeping the filters in the page links', async () => {
    for (let i = 0; i < 52; i++)
      await stack.services.accounts.create('ACC_CALENDAR', `bulk-${String(i).padStart(2, '0')}`);
    const first = await text('/dashboard/accounts?status=PENDING_AUTH');
    expect(listed(first)).toHaveLength(50);
    expect(first).toContain('Page 1 of 2 (53 accounts)');
    expect(first).toContain('href="/dashboard/accounts?status&#61;PENDING_AUTH&#38;page&#61;2">Next</a>');
    const second = await text('/dashboard/accounts?status=PENDING_AUTH&page=2');
    expect(listed(second)).toHaveLength(3);
    expect(new Set([...listed(first), ...listed(second)]).size).toBe(53);
    expect(second).toContain('>Previous</a>');
    expect(second).not.toContain('>Next</a>');
  });

  it("creates an MCP instance from a user's page behind CSRF, and shows its URL once", async () => {
    await stack.api('POST', '/api/v1/mcp/configs', {
      name: 'acc-config',
      connection_tool_mappings: [{ connection_name: 'ACC_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    const userPage = await text('/dashboard/user?identifier=new-user');
    expect(userPage).toContain('Create an MCP instance');
    expect(userPage).toContain('<option value="acc-config">acc-config</option>');
    const fields = { identifier: 'new-user', config_name: 'acc-config', name: 'laptop' };
    expect((await admin.post('/dashboard/user/instances', fields)).status).toBe(403);
    expect((await stack.services.mcpInstances.list({ userIdentifier: 'new-user', limit: 10, offset: 0 })).total).toBe(
      0,
    );

    const created = await admin.post('/dashboard/user/instances', { ...fields, _csrf: csrf });
    expect(created.status).toBe(201);
    const page = await created.text();
    const { rows } = await stack.services.mcpInstances.list({ userIdentifier: 'new-user', limit: 10, offset: 0 });
    expect(rows.map(({ row }) => row.name)).toEqual(['laptop']);
    const url = stack.services.mcpInstances.url(rows[0]?.row ?? ({} as never));
    expect(page).toContain(`<code id="instance-url">${url}</code>`);
    expect(page).toContain('Created instance laptop of acc-config');
    const again = await admin.post('/dashboard/user/instances', { ...fields, _csrf: csrf });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('(it existed already)');
    // The URL is a secret: the page shown later does not carry it.
    expect(await text('/dashboard/user?identifier=new-user')).not.toContain(url);
  });

  it("lists each account's latest events on the user's page, newest first, without a link or token", async () => {
    await stack.connectAccount('ACC_GMAIL', 'history-hal', 'john.doe@example.com');
    const connection = await stack.services.connections.getByName('ACC_GMAIL');
    let lastLink = '';
    for (let i = 0; i < 11; i++) {
      lastLink = (await stack.services.connectFlow.authLink(connection, 'history-hal', { source: 'dashboard' })).link;
    }
    const page = await text('/dashboard/user?identifier=history-hal');
    expect(page).toContain('<h2 id="history-title">Recent account events</h2>');
    const types = [...page.matchAll(/<td data-label="Event"><code>([^<]*)<\/code>/g)].map((m) => m[1]);
    // 13 events: the latest 10 are links issued after the consent, so the consent is not among them.
    expect(types).toEqual(Array(10).fill('account.link_issued'));
    expect(page).toContain('from dashboard');
    expect(page).not.toContain(new URL(lastLink).pathname.split('/').pop());
    const { events } = await stack.services.accountEvents.list({
      accountId: await accountId('ACC_GMAIL', 'history-hal'),
      type: 'account.consent_completed',
      limit: 1,
      offset: 0,
    });
    expect(events).toHaveLength(1);
    expect(await text('/dashboard/user?identifier=nobody-yet')).toContain('No account events yet.');
  });

  it('deletes an account only after a confirmation page and a CSRF-checked POST, and says the grant was revoked', async () => {
    const id = await accountId('ACC_GMAIL', 'john-doe');
    const userPage = await text('/dashboard/user?identifier=john-doe');
    expect(userPage).toContain(`href="/dashboard/user/accounts/${id}/delete"`);
    const confirm = await text(`/dashboard/user/accounts/${id}/delete`);
    expect(confirm).toContain('Delete the ACC_GMAIL account of <code>john-doe</code>?');
    expect(confirm).toContain('john.doe@example.com');
    expect((await admin.post(`/dashboard/user/accounts/${id}/delete`, {})).status).toBe(403);
    expect((await stack.services.accounts.find({ id }))?.account.id).toBe(id);

    const deleted = await admin.post(`/dashboard/user/accounts/${id}/delete`, { _csrf: csrf });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/dashboard/user?identifier=john-doe&notice=account-deleted');
    expect(await stack.services.accounts.find({ id })).toBeUndefined();
    expect(await text(deleted.headers.get('location') ?? '')).toContain('its grant was revoked at the provider');
  });

  it('says so when the provider refused the revocation of a disconnected account, and shows DISCONNECTED once', async () => {
    await stack.connectAccount('ACC_GMAIL', 'revoke-fails', 'alex.rivera@example.com');
    const id = await accountId('ACC_GMAIL', 'revoke-fails');
    const faults = stack.sandbox.state.faults;
    faults.clear();
    for (const pathPrefix of ['/revoke', '/o/oauth2/revoke']) faults.add({ match: { pathPrefix }, status: 503 });
    const disconnected = await admin.post('/dashboard/user/disconnect', { _csrf: csrf, account_id: id });
    faults.clear();
    expect(disconnected.status).toBe(303);
    const location = disconnected.headers.get('location') ?? '';
    expect(location).toBe('/dashboard/user?identifier=revoke-fails&notice=disconnected-revoke-failed');
    const page = await text(location);
    expect(page).toContain('the provider did not confirm the revocation');
    expect(page).not.toContain('its grant was revoked');
    // The status is named once: the reason "disconnected" only repeats it.
    const status = /<td data-label="Status">(.*?)<\/td>/s.exec(page)?.[1] ?? '';
    expect(status.replace(/<[^>]+>/g, '').trim()).toBe('DISCONNECTED');

    // Disconnected again: no tokens are left, so nothing was revoked, and the page says that.
    const none = await stack.services.accounts.disconnect({ id });
    expect(none.revocation).toBe('none');

    await stack.connectAccount('ACC_GMAIL', 'revoke-works', 'mei.tanaka@example.com');
    const ok = await admin.post('/dashboard/user/disconnect', {
      _csrf: csrf,
      account_id: await accountId('ACC_GMAIL', 'revoke-works'),
    });
    expect(ok.headers.get('location')).toBe('/dashboard/user?identifier=revoke-works&notice=disconnected');
  });

  it('saving a connection unchanged keeps it on the provider defaults instead of freezing them', async () => {
    const created = await admin.post('/dashboard/connections', {
      _csrf: csrf,
      provider: 'gmail',
      name: 'DEFAULTS_GMAIL',
      target: 'sandbox',
      // What the new-connection form is pre-filled with.
      scopes: stack.services.catalog.providers.get('gmail')?.defaultScopes.join('\n') ?? '',
    });
    expect(created.status).toBe(303);
    const row = await stack.services.connections.getByName('DEFAULTS_GMAIL');
    expect(JSON.parse(row.scopes)).toEqual([]);

    const edit = await text(`/dashboard/connections/${row.id}/edit`);
    const shown = /<textarea id="scopes"[^>]*>([^<]*)<\/textarea>/.exec(edit)?.[1] ?? '';
    expect(shown).toContain('https://www.googleapis.com/auth/');
    const saved = await admin.post(`/dashboard/connections/${row.id}`, {
      _csrf: csrf,
      name: 'DEFAULTS_GMAIL',
      target: 'sandbox',
      oauth_client_id: row.oauth_client_id,
      scopes: shown,
    });
    expect(saved.status).toBe(303);
    expect(JSON.parse((await stack.services.connections.get(row.id)).scopes)).toEqual([]);
    const list = await text('/dashboard/connections');
    const cells = /<strong>DEFAULTS_GMAIL<\/strong>[\s\S]*?<td data-label="Scopes">(.*?)<\/td>/.exec(list)?.[1];
    expect(cells).toContain('provider defaults');

    // A real change is kept.
    await admin.post(`/dashboard/connections/${row.id}`, {
      _csrf: csrf,
      name: 'DEFAULTS_GMAIL',
      target: 'sandbox',
      oauth_client_id: row.oauth_client_id,
      scopes: 'https://www.googleapis.com/auth/gmail.readonly',
    });
    expect(JSON.parse((await stack.services.connections.get(row.id)).scopes)).toEqual([
      'https://www.googleapis.com/auth/gmail.readonly',
    ]);
  });

  it('serves a favicon every page links to, allowed by the CSP, and styles that never break words mid-token', async () => {
    for (const path of [
      '/dashboard/accounts',
      '/dashboard/connections',
      '/dashboard/users',
      '/dashboard/mcp-configs',
    ]) {
      const response = await admin.get(path);
      expect(response.headers.get('content-security-policy')).toContain("img-src 'self'");
      const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/.exec(await response.text())?.[1];
      expect(icon, path).toMatch(/^\/dashboard\/assets\/icon\.[0-9a-f]{12}\.svg$/);
    }
    const signIn = await new DashboardClient(stack).get('/dashboard/sign-in');
    const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/.exec(await signIn.text())?.[1] ?? '';
    const served = await new DashboardClient(stack).get(icon);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/svg+xml');
    expect(await served.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);

    const page = await text('/dashboard/connections');
    const css = await (await admin.get(/href="(\/dashboard\/assets\/app\.[^"]+\.css)"/.exec(page)?.[1] ?? '')).text();
    expect(css).not.toContain('break-all');
    expect(css).toMatch(/code,\.mono\{[^}]*white-space:nowrap/);
  });
});
