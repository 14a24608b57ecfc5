import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiInstance, type AuthStateEntry, createSeedConfig, ensureInstance, rawPost } from './support.js';

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

describe('MCP instances API', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await createSeedConfig(stack);
  });
  afterAll(() => stack?.close());

  it('ensures one instance per (config, user, name) and returns the same one again', async () => {
    const first = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    const again = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    expect(again.id).toBe(first.id);
    expect(again.url).toBe(first.url);
    expect(first.id).toMatch(/^inst_/);
    expect(first.config.name).toBe('reminder-manager');
    expect(first.user_identifier).toBe('john-doe');
    const named = await ensureInstance(stack, 'reminder-manager', 'john-doe', 'laptop');
    expect(named.id).not.toBe(first.id);
    const missing = await stack.api<{ error: { code: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'nope',
      user_identifier: 'john-doe',
    });
    expect(missing.status).toBe(404);
  });

  it('keeps the URL secret only as a digest and a ciphertext', async () => {
    const instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    const secret = instance.url.split('/mcp/i/')[1] ?? '';
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(16);
    const row = await stack.db.db
      .selectFrom('mcp_instances')
      .selectAll()
      .where('id', '=', instance.id)
      .executeTakeFirstOrThrow();
    expect(row.url_secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(row.url_secret_enc).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('lists with filters and page tokens, gets, patches and deletes', async () => {
    await ensureInstance(stack, 'reminder-manager', 'jane-doe');
    const byUser = await stack.api<{ instances: ApiInstance[]; total_size: number }>(
      'GET',
      '/api/v1/mcp/instances?filter.user_identifier=john-doe',
    );
    expect(byUser.body.total_size).toBe(2);
    const page = await stack.api<{ instances: ApiInstance[]; next_page_token: string; total_size: number }>(
      'GET',
      '/api/v1/mcp/instances?filter.config_name=reminder-manager&page_size=2',
    );
    expect(page.body.total_size).toBe(3);
    expect(page.body.instances).toHaveLength(2);
    const rest = await stack.api<{ instances: ApiInstance[] }>(
      'GET',
      `/api/v1/mcp/instances?filter.config_name=reminder-manager&page_size=2&page_token=${page.body.next_page_token}`,
    );
    expect(rest.body.instances).toHaveLength(1);
    const searched = await stack.api<{ instances: ApiInstance[] }>('GET', '/api/v1/mcp/instances?search=jane');
    expect(searched.body.instances.map((i) => i.user_identifier)).toEqual(['jane-doe']);

    const laptop = await ensureInstance(stack, 'reminder-manager', 'john-doe', 'laptop');
    const renamed = await stack.api<{ instance: ApiInstance }>('PATCH', `/api/v1/mcp/instances/${laptop.id}`, {
      name: 'desktop',
    });
    expect(renamed.body.instance.name).toBe('desktop');
    expect(renamed.body.instance.url).toBe(laptop.url);
    const clash = await stack.api<{ error: { code: string } }>('PATCH', `/api/v1/mcp/instances/${laptop.id}`, {
      name: 'default',
    });
    expect(clash.status).toBe(409);

    const got = await stack.api<{ instance: ApiInstance }>('GET', `/api/v1/mcp/instances/${laptop.id}`);
    expect(got.body.instance.name).toBe('desktop');
    expect((await stack.api('DELETE', `/api/v1/mcp/instances/${laptop.id}`)).body).toEqual({});
    expect((await stack.api('GET', `/api/v1/mcp/instances/${laptop.id}`)).status).toBe(404);
    expect((await rawPost(stack, laptop.url, listTools)).status).toBe(404);
  });

  it('rotates the URL: the old one dies at once, the new one works', async () => {
    const instance = await ensureInstance(stack, 'reminder-manager', 'rotating-user');
    expect((await rawPost(stack, instance.url, listTools)).status).toBe(200);
    const rotated = await stack.api<{ instance: ApiInstance }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:rotate_url`,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.instance.url).not.toBe(instance.url);
    const old = await rawPost(stack, instance.url, listTools);
    const never = await rawPost(stack, `${stack.url}/mcp/i/never-existed`, listTools);
    expect(old.status).toBe(404);
    expect(never.status).toBe(404);
    expect(await old.text()).toBe(await never.text());
    expect((await rawPost(stack, rotated.body.instance.url, listTools)).status).toBe(200);
  });

  it('records last_used_at on use', async () => {
    const instance = await ensureInstance(stack, 'reminder-manager', 'busy-user');
    expect(instance.last_used_at).toBeUndefined();
    await rawPost(stack, instance.url, listTools);
    const got = await stack.api<{ instance: ApiInstance }>('GET', `/api/v1/mcp/instances/${instance.id}`);
    expect(Date.parse(got.body.instance.last_used_at ?? '')).toBeGreaterThan(0);
  });

  it('reports auth state per connection, creating pending accounts and links', async () => {
    const instance = await ensureInstance(stack, 'reminder-manager', 'auth-user');
    const noLinks = await stack.api<{ connections: AuthStateEntry[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      {
        include_auth_links: false,
      },
    );
    expect(
      noLinks.body.connections.map((c) => [c.connection_name, c.connected_account_status, c.authentication_link]),
    ).toEqual([
      ['MY_GMAIL', 'PENDING_AUTH', ''],
      ['MY_CALENDAR', 'PENDING_AUTH', ''],
    ]);
    const withLinks = await stack.api<{ connections: AuthStateEntry[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      {
        include_auth_links: true,
      },
    );
    for (const entry of withLinks.body.connections) {
      expect(entry.connected_account_id).toMatch(/^ca_/);
      expect(entry.authentication_link).toMatch(new RegExp(`^${stack.url}/connect/`));
    }
    const gmail = withLinks.body.connections[0];
    const consented = await stack.consent(gmail?.authentication_link ?? '', { email: 'alex.rivera@example.com' });
    expect(consented.status).toBe(200);
    const after = await stack.api<{ connections: AuthStateEntry[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      {
        include_auth_links: true,
      },
    );
    expect(
      after.body.connections.map((c) => [c.connection_name, c.connected_account_status, c.authentication_link === '']),
    ).toEqual([
      ['MY_GMAIL', 'ACTIVE', true],
      ['MY_CALENDAR', 'PENDING_AUTH', false],
    ]);
  });
});
