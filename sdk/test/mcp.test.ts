import { type Stack, startStack } from '@switchboard/server/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Switchboard, SwitchboardError } from '../src/index.js';

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}

describe('the SDK for MCP configs and instances', () => {
  let stack: Stack;
  let switchboard: Switchboard;

  beforeAll(async () => {
    stack = await startStack();
    switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
      fetch: stack.fetch,
    });
    await switchboard.connections.create({ name: 'MY_GMAIL', provider: 'gmail' });
    await switchboard.connections.create({ name: 'MY_CALENDAR', provider: 'googlecalendar' });
  });
  afterAll(() => stack?.close());

  it('creates, lists, gets, updates and deletes a config', async () => {
    const config = await switchboard.mcp.createConfig({
      name: 'crud-config',
      description: 'first',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    expect(config.id).toMatch(/^cfg_/);
    expect(config.connection_tool_mappings).toEqual([
      expect.objectContaining({ connection_name: 'MY_GMAIL', provider: 'gmail', tools: ['gmail_fetch_mails'] }),
    ]);
    expect(config.mcp_server_url).toMatch(/^http/);

    expect((await switchboard.mcp.listConfigs({ name: 'crud-config' })).configs.map((c) => c.id)).toEqual([config.id]);
    expect((await switchboard.mcp.getConfig(config.id)).description).toBe('first');

    const updated = await switchboard.mcp.updateConfig(config.id, {
      description: 'second',
      connection_tool_mappings: [{ connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] }],
    });
    expect(updated.description).toBe('second');
    expect(updated.connection_tool_mappings.map((m) => m.connection_name)).toEqual(['MY_CALENDAR']);

    await switchboard.mcp.deleteConfig(config.id);
    expect((await rejection(switchboard.mcp.getConfig(config.id))).code).toBe('not_found');
  });

  it('rejects a second config with the same name as already_exists', async () => {
    await switchboard.mcp.createConfig({ name: 'dup-config', connection_tool_mappings: [] });
    const error = await rejection(switchboard.mcp.createConfig({ name: 'dup-config', connection_tool_mappings: [] }));
    expect(error).toMatchObject({ code: 'already_exists', status: 409 });
  });

  describe('instances', () => {
    let configId: string;
    beforeAll(async () => {
      const config = await switchboard.mcp.createConfig({
        name: 'reminder-manager',
        connection_tool_mappings: [
          { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
          { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
        ],
      });
      configId = config.id;
    });

    it('ensures one instance per (config, user), gets, lists, updates, rotates and deletes it', async () => {
      const instance = await switchboard.mcp.ensureInstance({
        config_name: 'reminder-manager',
        user_identifier: 'john-doe',
      });
      expect(instance.id).toMatch(/^inst_/);
      expect(instance).toMatchObject({ user_identifier: 'john-doe', config: { name: 'reminder-manager' } });
      expect(instance.url).toMatch(new RegExp(`^${stack.url}/`));

      const again = await switchboard.mcp.ensureInstance({
        config_name: 'reminder-manager',
        user_identifier: 'john-doe',
      });
      expect(again.id).toBe(instance.id);
      expect(again.url).toBe(instance.url);

      expect((await switchboard.mcp.getInstance(instance.id)).url).toBe(instance.url);
      const listed = await switchboard.mcp.listInstances({
        config_name: 'reminder-manager',
        user_identifier: 'john-doe',
      });
      expect(listed.instances.map((i) => i.id)).toEqual([instance.id]);

      const renamed = await switchboard.mcp.updateInstance(instance.id, { name: 'johns-reminders' });
      expect(renamed.name).toBe('johns-reminders');

      const rotated = await switchboard.mcp.rotateInstanceUrl(instance.id);
      expect(rotated.url).not.toBe(instance.url);

      await switchboard.mcp.deleteInstance(instance.id);
      expect((await rejection(switchboard.mcp.getInstance(instance.id))).code).toBe('not_found');
    });

    it('reports auth state with links, which consent turns ACTIVE; then session tokens can be minted', async () => {
      const instance = await switchboard.mcp.ensureInstance({
        config_name: 'reminder-manager',
        user_identifier: 'jane-doe',
      });
      const withoutLinks = await switchboard.mcp.getInstanceAuthState(instance.id);
      expect(withoutLinks.connections.map((c) => c.authentication_link)).toEqual(['', '']);

      const tokenError = await rejection(switchboard.mcp.createSessionToken(configId, { identifier: 'jane-doe' }));
      expect(tokenError.status).toBeGreaterThanOrEqual(400);

      const state = await switchboard.mcp.getInstanceAuthState(instance.id, { include_auth_links: true });
      expect(state.connections.map((c) => c.connection_name).sort()).toEqual(['MY_CALENDAR', 'MY_GMAIL']);
      for (const connection of state.connections) {
        expect(connection.connected_account_status.toUpperCase()).not.toBe('ACTIVE');
        expect(connection.authentication_link).toMatch(new RegExp(`^${stack.url}/`));
        expect((await stack.consent(connection.authentication_link, { email: 'jane.doe@example.com' })).status).toBe(
          200,
        );
      }
      const after = await switchboard.mcp.getInstanceAuthState(instance.id);
      expect(after.connections.map((c) => c.connected_account_status)).toEqual(['ACTIVE', 'ACTIVE']);

      const accounts = await switchboard.mcp.listConnectedAccounts(configId, { identifier: 'jane-doe' });
      expect(accounts.map((a) => a.connected_account_status)).toEqual(['ACTIVE', 'ACTIVE']);

      const token = await switchboard.mcp.createSessionToken(configId, { identifier: 'jane-doe', expiry: '600s' });
      expect(token.token.split('.')).toHaveLength(3);
      expect(Date.parse(token.expires_at) - Date.now()).toBeGreaterThan(500_000);
    });

    it('hands out auth-state links that end at the app’s verify URL with its state, then verifies the user', async () => {
      const instance = await switchboard.mcp.ensureInstance({
        config_name: 'reminder-manager',
        user_identifier: 'verify-me',
      });
      const state = await switchboard.mcp.getInstanceAuthState(instance.id, {
        include_auth_links: true,
        user_verify_url: 'https://app.example.com/switchboard/verify',
        state: 'session-42',
      });
      for (const connection of state.connections) {
        const callback = await stack.consent(connection.authentication_link);
        expect(callback.status).toBe(302);
        const verify = new URL(callback.headers.get('location') ?? '');
        expect(verify.origin + verify.pathname).toBe('https://app.example.com/switchboard/verify');
        expect(verify.searchParams.get('state')).toBe('session-42');
        const verified = await switchboard.connectedAccounts.verifyUser({
          auth_request_id: verify.searchParams.get('auth_request_id') ?? '',
          identifier: 'verify-me',
        });
        expect(verified.post_user_verify_redirect_url).toBe(`${stack.url}/connect/verified`);
      }
      const after = await switchboard.mcp.getInstanceAuthState(instance.id);
      expect(after.connections.map((c) => c.connected_account_status)).toEqual(['ACTIVE', 'ACTIVE']);
    });

    it('lists a config’s connected accounts for a new user, creating them with links on request', async () => {
      const before = await switchboard.mcp.listConnectedAccounts(configId, { identifier: 'new-user-1' });
      expect(before.every((a) => a.authentication_link === '')).toBe(true);
      const withLinks = await switchboard.mcp.listConnectedAccounts(configId, {
        identifier: 'new-user-1',
        include_auth_link: true,
      });
      expect(withLinks).toHaveLength(2);
      expect(withLinks.every((a) => a.authentication_link.startsWith(stack.url))).toBe(true);
    });
  });
});
