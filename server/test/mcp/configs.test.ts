import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiConfig, type ApiInstance, createSeedConfig, ensureInstance } from './support.js';

describe('MCP configs API', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('creates a config in the reference shape with one static server URL', async () => {
    const config = await createSeedConfig(stack);
    expect(config.id).toMatch(/^cfg_/);
    expect(config.mcp_server_url).toBe(`${stack.url}/mcp/c/${config.id}`);
    expect(config.connection_tool_mappings).toEqual([
      {
        connection_id: expect.stringMatching(/^conn_/),
        connection_name: 'MY_GMAIL',
        provider: 'gmail',
        tools: ['gmail_fetch_mails'],
      },
      {
        connection_id: expect.stringMatching(/^conn_/),
        connection_name: 'MY_CALENDAR',
        provider: 'googlecalendar',
        tools: ['googlecalendar_create_event'],
      },
    ]);
    const fetched = await stack.api<{ config: ApiConfig }>('GET', `/api/v1/mcp/configs/${config.id}`);
    expect(fetched.body.config).toEqual(config);
  });

  it('refuses a duplicate name with already_exists and a bad name with validation_failed', async () => {
    const again = await stack.api<{ error: { code: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'reminder-manager',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_exists');
    for (const name of ['', 'Upper', 'has space', 'x'.repeat(101)]) {
      const bad = await stack.api<{ error: { code: string } }>('POST', '/api/v1/mcp/configs', { name });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
    }
  });

  it('names every unknown connection and tool in one validation error', async () => {
    const bad = await stack.api<{ error: { code: string; message: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'broken',
      connection_tool_mappings: [
        { connection_name: 'NOPE', tools: [] },
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_teleport', 'googlecalendar_create_event'] },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.message).toContain('NOPE');
    expect(bad.body.error.message).toContain('gmail_teleport');
    expect(bad.body.error.message).toContain('googlecalendar_create_event');
  });

  it('allows at most 25 mappings', async () => {
    const many = Array.from({ length: 26 }, (_, i) => ({ connection_name: `C${i}`, tools: [] }));
    const bad = await stack.api<{ error: { code: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'too-many',
      connection_tool_mappings: many,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('replaces mappings wholesale on PUT and treats empty tools as every tool of the provider', async () => {
    const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name: 'all-gmail',
      connection_tool_mappings: [{ connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] }],
    });
    const updated = await stack.api<{ config: ApiConfig }>('PUT', `/api/v1/mcp/configs/${created.body.config.id}`, {
      description: 'every gmail tool',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: [] }],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.config.description).toBe('every gmail tool');
    expect(updated.body.config.connection_tool_mappings.map((m) => m.connection_name)).toEqual(['MY_GMAIL']);
    expect(updated.body.config.connection_tool_mappings[0]?.tools).toEqual([]);
  });

  it('lists with filters, search and page tokens', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await stack.api('POST', '/api/v1/mcp/configs', {
        name,
        connection_tool_mappings: [{ connection_name: 'MY_CALENDAR', tools: [] }],
      });
    }
    const first = await stack.api<{ configs: ApiConfig[]; next_page_token: string; total_size: number }>(
      'GET',
      '/api/v1/mcp/configs?search=page-&page_size=2',
    );
    expect(first.body.total_size).toBe(3);
    expect(first.body.configs.map((c) => c.name)).toEqual(['page-a', 'page-b']);
    const second = await stack.api<{ configs: ApiConfig[]; prev_page_token: string; next_page_token: string }>(
      'GET',
      `/api/v1/mcp/configs?search=page-&page_size=2&page_token=${first.body.next_page_token}`,
    );
    expect(second.body.configs.map((c) => c.name)).toEqual(['page-c']);
    expect(second.body.next_page_token).toBe('');
    expect(second.body.prev_page_token).not.toBe('');

    const byName = await stack.api<{ configs: ApiConfig[] }>('GET', '/api/v1/mcp/configs?filter.name=REMINDER-MANAGER');
    expect(byName.body.configs.map((c) => c.name)).toEqual(['reminder-manager']);
    const byProvider = await stack.api<{ configs: ApiConfig[] }>(
      'GET',
      '/api/v1/mcp/configs?filter.provider=gmail&page_size=30',
    );
    expect(byProvider.body.configs.map((c) => c.name).sort()).toEqual(['all-gmail', 'reminder-manager']);
    const tooBig = await stack.api('GET', '/api/v1/mcp/configs?page_size=31');
    expect(tooBig.status).toBe(400);
  });

  it('deletes a config with its instances, and their URLs stop at once', async () => {
    const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name: 'short-lived',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    const instance = await ensureInstance(stack, 'short-lived', 'john-doe');
    const before = await stack.fetch(instance.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(before.status).toBe(200);
    expect((await stack.api('DELETE', `/api/v1/mcp/configs/${created.body.config.id}`)).status).toBe(200);
    expect((await stack.api('GET', `/api/v1/mcp/instances/${instance.id}`)).status).toBe(404);
    const after = await stack.fetch(instance.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(after.status).toBe(404);
    expect((await stack.api('DELETE', `/api/v1/mcp/configs/${created.body.config.id}`)).status).toBe(404);
  });

  it('is behind management auth', async () => {
    const anonymous = await stack.fetch(`${stack.url}/api/v1/mcp/configs`);
    expect(anonymous.status).toBe(401);
  });
});

/**
 * Config details are cached per process by id and by name; every write must empty that
 * cache before it answers, so the next call through any route sees the write.
 */
describe('MCP config changes reach ensure-instance and GET at once', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
  });
  afterAll(() => stack?.close());

  type Mappings = ApiConfig['connection_tool_mappings'];

  async function createConfig(name: string, mappings: { connection_name: string; tools: string[] }[]) {
    const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name,
      connection_tool_mappings: mappings,
    });
    expect(created.status).toBe(201);
    return created.body.config;
  }

  function ensure(configName: string, user: string) {
    return stack.api<{ instance: ApiInstance; error: { code: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: configName,
      user_identifier: user,
    });
  }

  const summary = (mappings: Mappings) => mappings.map((m) => `${m.connection_name}:${m.tools.join('+')}`);

  it('shows new mappings in ensure-instance and GET right after a PUT', async () => {
    const config = await createConfig('changing', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    // Both lookups (by name and by id) are read, so both are in the cache before the change.
    const before = await ensureInstance(stack, 'changing', 'jane');
    expect(summary(before.config.connection_tool_mappings)).toEqual(['MY_GMAIL:gmail_fetch_mails']);
    const got = await stack.api<{ config: ApiConfig }>('GET', `/api/v1/mcp/configs/${config.id}`);
    expect(summary(got.body.config.connection_tool_mappings)).toEqual(['MY_GMAIL:gmail_fetch_mails']);

    const updated = await stack.api<{ config: ApiConfig }>('PUT', `/api/v1/mcp/configs/${config.id}`, {
      description: 'mail and calendar',
      connection_tool_mappings: [
        { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_list_labels'] },
      ],
    });
    expect(updated.status).toBe(200);
    const expected = ['MY_CALENDAR:googlecalendar_create_event', 'MY_GMAIL:gmail_fetch_mails+gmail_list_labels'];

    const existing = await ensure('changing', 'jane');
    expect(existing.status).toBe(200);
    expect(existing.body.instance.id).toBe(before.id);
    expect(existing.body.instance.config.description).toBe('mail and calendar');
    expect(summary(existing.body.instance.config.connection_tool_mappings)).toEqual(expected);
    const upperCase = await ensure('CHANGING', 'jane');
    expect(summary(upperCase.body.instance.config.connection_tool_mappings)).toEqual(expected);
    const created = await ensure('changing', 'joe');
    expect(created.status).toBe(201);
    expect(summary(created.body.instance.config.connection_tool_mappings)).toEqual(expected);

    const after = await stack.api<{ config: ApiConfig }>('GET', `/api/v1/mcp/configs/${config.id}`);
    expect(after.body.config).toEqual(updated.body.config);
    const instance = await stack.api<{ instance: ApiInstance }>('GET', `/api/v1/mcp/instances/${before.id}`);
    expect(summary(instance.body.instance.config.connection_tool_mappings)).toEqual(expected);
  });

  it('shows a renamed connection in the mappings ensure-instance returns right away', async () => {
    await stack.createConnection('OLD_NAME', 'gmail');
    await createConfig('renaming', [{ connection_name: 'OLD_NAME', tools: ['gmail_fetch_mails'] }]);
    const before = await ensureInstance(stack, 'renaming', 'jane');
    const connectionId = before.config.connection_tool_mappings[0]?.connection_id;
    expect(summary(before.config.connection_tool_mappings)).toEqual(['OLD_NAME:gmail_fetch_mails']);

    const renamed = await stack.api('PATCH', `/api/v1/connections/${connectionId}`, { name: 'NEW_NAME' });
    expect(renamed.status).toBe(200);
    const after = await ensureInstance(stack, 'renaming', 'jane');
    expect(after.config.connection_tool_mappings).toEqual([
      { connection_id: connectionId, connection_name: 'NEW_NAME', provider: 'gmail', tools: ['gmail_fetch_mails'] },
    ]);
  });

  it('answers ensure-instance by name with 404 right after the config is deleted', async () => {
    const config = await createConfig('doomed', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    await ensureInstance(stack, 'doomed', 'jane');
    expect((await stack.api('GET', `/api/v1/mcp/configs/${config.id}`)).status).toBe(200);

    expect((await stack.api('DELETE', `/api/v1/mcp/configs/${config.id}`)).status).toBe(200);
    for (const user of ['jane', 'joe']) {
      const gone = await ensure('doomed', user);
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('not_found');
    }
    expect((await stack.api('GET', `/api/v1/mcp/configs/${config.id}`)).status).toBe(404);
  });

  it('uses the new config after a delete and re-create under the same name', async () => {
    const old = await createConfig('reborn', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    const oldInstance = await ensureInstance(stack, 'reborn', 'jane');
    expect(oldInstance.config.id).toBe(old.id);
    expect((await stack.api('GET', `/api/v1/mcp/configs/${old.id}`)).status).toBe(200);

    expect((await stack.api('DELETE', `/api/v1/mcp/configs/${old.id}`)).status).toBe(200);
    const reborn = await createConfig('reborn', [
      { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
    ]);
    expect(reborn.id).not.toBe(old.id);

    const ensured = await ensure('reborn', 'jane');
    expect(ensured.status).toBe(201);
    expect(ensured.body.instance.id).not.toBe(oldInstance.id);
    expect(ensured.body.instance.config.id).toBe(reborn.id);
    expect(summary(ensured.body.instance.config.connection_tool_mappings)).toEqual([
      'MY_CALENDAR:googlecalendar_create_event',
    ]);
    expect((await ensure('reborn', 'jane')).body.instance.id).toBe(ensured.body.instance.id);
    expect((await stack.api('GET', `/api/v1/mcp/configs/${old.id}`)).status).toBe(404);
    expect((await stack.api('GET', `/api/v1/mcp/instances/${oldInstance.id}`)).status).toBe(404);
  });

  it('finds a config created right after ensure-instance missed its name', async () => {
    const missed = await ensure('late', 'jane');
    expect(missed.status).toBe(404);
    expect(missed.body.error.code).toBe('not_found');

    const config = await createConfig('late', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    const found = await ensure('late', 'jane');
    expect(found.status).toBe(201);
    expect(found.body.instance.config.id).toBe(config.id);
  });
});
