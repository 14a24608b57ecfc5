import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { DashboardClient } from './dashboard-client.js';

describe('dashboard: API clients and confirmed target switches', () => {
  let stack: Stack;
  let admin: DashboardClient;
  let csrf: string;
  beforeAll(async () => {
    stack = await startStack();
    admin = new DashboardClient(stack);
    csrf = await admin.signIn();
  });
  afterAll(() => stack?.close());

  async function tokenStatus(client: { client_id: string; client_secret: string }): Promise<number> {
    const issued = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...client }),
    });
    if (issued.status !== 200) return issued.status;
    const { access_token } = (await issued.json()) as { access_token: string };
    const call = await stack.fetch(`${stack.url}/api/v1/connections`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    return call.status;
  }

  const secretOf = (page: string) => /<code id="client-secret">([^<]+)<\/code>/.exec(page)?.[1] ?? '';
  const clientIdOf = (page: string) => /<code id="client-id">([^<]+)<\/code>/.exec(page)?.[1] ?? '';

  it('lists the clients, creates one (secret shown once), rotates and revokes it behind CSRF-checked forms', async () => {
    const list = await admin.get('/dashboard/clients');
    expect(list.status).toBe(200);
    const listed = await list.text();
    expect(listed).toContain(stack.admin.client_id);
    expect(listed).toContain('API clients');

    const created = await admin.post('/dashboard/clients', { _csrf: csrf, name: 'from-dashboard', scope: 'read' });
    expect(created.status).toBe(201);
    const page = await created.text();
    const client = { client_id: clientIdOf(page), client_secret: secretOf(page) };
    expect(client.client_secret).toMatch(/^sbs_/);
    expect(await tokenStatus(client)).toBe(200);
    const row = (await stack.services.apiClients.list()).find((c) => c.client_id === client.client_id);
    expect(row?.scope).toBe('read');
    expect(await (await admin.get('/dashboard/clients')).text()).not.toContain(client.client_secret);

    expect((await admin.post(`/dashboard/clients/${row?.id}/rotate`, {})).status).toBe(403);
    const confirm = await admin.get(`/dashboard/clients/${row?.id}/rotate`);
    expect(await confirm.text()).toContain('Rotate secret');
    const rotated = await admin.post(`/dashboard/clients/${row?.id}/rotate`, { _csrf: csrf });
    expect(rotated.status).toBe(200);
    const newSecret = secretOf(await rotated.text());
    expect(newSecret).not.toBe(client.client_secret);
    expect(await tokenStatus(client)).toBe(401);
    expect(await tokenStatus({ ...client, client_secret: newSecret })).toBe(200);

    const revoked = await admin.post(`/dashboard/clients/${row?.id}/revoke`, { _csrf: csrf });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe('/dashboard/clients?notice=client-revoked');
    expect(await tokenStatus({ ...client, client_secret: newSecret })).toBe(401);
  });

  it('a read-only client may look at pages but not change anything, nor see the clients page', async () => {
    const reader = await stack.services.apiClients.create('dashboard-reader', 'read');
    const browser = new DashboardClient(stack);
    const form = await (await browser.get('/dashboard/sign-in')).text();
    const signedIn = await browser.post('/dashboard/sign-in', {
      _csrf: DashboardClient.hidden(form, '_csrf'),
      next: '/dashboard/connections',
      client_id: reader.client_id,
      client_secret: reader.client_secret,
    });
    expect(signedIn.status).toBe(303);
    const page = await (await browser.get('/dashboard/connections')).text();
    const token = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1] ?? '';
    expect((await browser.get('/dashboard/clients')).status).toBe(403);
    const write = await browser.post('/dashboard/connections', {
      _csrf: token,
      provider: 'gmail',
      name: 'READER_MADE',
      target: 'sandbox',
    });
    expect(write.status).toBe(403);
    expect(await stack.services.connections.findByName('READER_MADE')).toBeUndefined();
  });

  it('switching a connection between sandbox and provider needs the confirmation box and then drops the grants', async () => {
    const connection = await stack.createConnection('DASH_GMAIL', 'gmail');
    await stack.connectAccount('DASH_GMAIL', 'dash-user');
    const edit = await (await admin.get(`/dashboard/connections/${connection.id}/edit`)).text();
    expect(edit).toContain('name="confirm_target_change"');
    const fields = {
      _csrf: csrf,
      name: 'DASH_GMAIL',
      target: 'provider',
      oauth_client_id: 'real-client-id.apps.googleusercontent.com',
      oauth_client_secret: 'real-secret',
      scopes: '',
    };
    const unconfirmed = await admin.post(`/dashboard/connections/${connection.id}`, fields);
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('tick the confirmation box');
    const status = async () =>
      (
        await stack.db.db
          .selectFrom('connected_accounts')
          .select('status')
          .where('identifier', '=', 'dash-user')
          .executeTakeFirstOrThrow()
      ).status;
    expect(await status()).toBe('ACTIVE');
    const confirmed = await admin.post(`/dashboard/connections/${connection.id}`, {
      ...fields,
      confirm_target_change: '1',
    });
    expect(confirmed.status).toBe(303);
    expect(await status()).toBe('PENDING_AUTH');
    expect((await stack.services.connections.get(String(connection.id))).target).toBe('provider');
  });
});
