import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

/** The string at `keys` inside a JSON answer. */
function field(value: unknown, ...keys: string[]): string {
  const found = keys.reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], value);
  if (typeof found !== 'string') throw new Error(`no string at ${keys.join('.')} in ${JSON.stringify(value)}`);
  return found;
}

const TIMESTAMP_KEY = /(_at|expiry|expires_at)$/;

/** Every path in a JSON answer whose key names a timestamp and whose value is "" or null: unset ones are omitted. */
function emptyTimestamps(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => emptyTimestamps(item, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(TIMESTAMP_KEY.test(key) && (item === '' || item === null) ? [`${path}.${key}`] : []),
    ...emptyTimestamps(item, `${path}.${key}`),
  ]);
}

describe('timestamps on the wire', () => {
  let stack: Stack;
  const answers: { call: string; body: unknown }[] = [];
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const answer = await stack.api(method, path, body);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    answers.push({ call: `${method} ${path}`, body: answer.body });
    return answer.body;
  };

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('omits every unset timestamp, as protobuf JSON does, on every resource', async () => {
    // One of each resource, some never used (no last_used_at, no token yet), then every read.
    await stack.createConnection('MY_GMAIL', 'gmail', { target: 'sandbox' });
    const activeId = await stack.connectAccount('MY_GMAIL', 'john-doe');
    const pending = await call('POST', '/api/v1/connected_accounts', { connector: 'MY_GMAIL', identifier: 'jane-roe' });
    await call('POST', '/api/v1/connected_accounts/magic_link', { connector: 'MY_GMAIL', identifier: 'jane-roe' });
    const config = await call('POST', '/api/v1/mcp/configs', {
      name: 'wire-config',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    const configId = field(config, 'config', 'id');
    const instance = await call('POST', '/api/v1/mcp/instances', {
      config_name: 'wire-config',
      user_identifier: 'jane-roe',
    });
    const instanceId = field(instance, 'instance', 'id');
    await call('POST', `/api/v1/mcp/instances/${instanceId}:get_auth_state`, { include_auth_links: true });
    await call('POST', `/api/v1/mcp/configs/${configId}/connected_accounts`, {
      identifier: 'jane-roe',
      include_auth_link: true,
    });
    await call('POST', `/api/v1/mcp/configs/${configId}/tokens`, { identifier: 'john-doe' });
    await call('POST', '/api/v1/clients', { name: 'wire-client' });
    await call('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connected_account_id: activeId,
      params: { max_results: 1 },
    });
    const pendingId = field(pending, 'connected_account', 'id');
    for (const path of [
      '/api/v1/connections?page_size=10',
      '/api/v1/connected_accounts?page_size=10',
      `/api/v1/connected_accounts/${pendingId}`,
      `/api/v1/connected_accounts/${activeId}`,
      `/api/v1/connected_accounts/${pendingId}/events`,
      '/api/v1/mcp/configs',
      `/api/v1/mcp/configs/${configId}`,
      '/api/v1/mcp/instances',
      `/api/v1/mcp/instances/${instanceId}`,
      '/api/v1/clients',
      '/api/v1/tools?page_size=2',
      '/api/v1/agentkit/tool_call_logs',
    ]) {
      await call('GET', path);
    }
    // The never-used account and instance really are unset: the omission is what is tested.
    const never = answers.find((a) => a.call === `GET /api/v1/connected_accounts/${pendingId}`)?.body;
    expect(never).toHaveProperty('connected_account.updated_at');
    expect(never).not.toHaveProperty('connected_account.last_used_at');
    expect(never).not.toHaveProperty('connected_account.token_expires_at');
    for (const { call: made, body } of answers) expect(emptyTimestamps(body), made).toEqual([]);
  });

  it('takes include_auth_links from the query of :get_auth_state too', async () => {
    const instance = await call('POST', '/api/v1/mcp/instances', {
      config_name: 'wire-config',
      user_identifier: 'query-user',
    });
    const id = field(instance, 'instance', 'id');
    const state = (query: string) => call('POST', `/api/v1/mcp/instances/${id}:get_auth_state${query}`);
    const link = async (query: string) => field(await state(query), 'connections', '0', 'authentication_link');
    expect(await link('')).toBe('');
    expect(await link('?include_auth_links=true')).toMatch(/\/connect\//);
    expect(await link('?include_auth_links=false')).toBe('');
  });
});
