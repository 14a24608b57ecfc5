import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { McpConfig, McpConnectionAuthState, McpInstanceWithUrl } from '@switchboard/sdk';
import type { Stack } from '../support/stack.js';

/** The wire types are the SDK's; these names keep the tests short (the tests' client is an admin one: instances come with their URL). */
export type ApiConfig = McpConfig;
export type ApiInstance = McpInstanceWithUrl;
export type AuthStateEntry = McpConnectionAuthState;

export const SEED_TOOLS = ['gmail_fetch_mails', 'googlecalendar_create_event'];

/** Connections MY_GMAIL and MY_CALENDAR and the `reminder-manager` config of the seed workflow. */
export async function createSeedConfig(stack: Stack, name = 'reminder-manager'): Promise<ApiConfig> {
  const existing = await stack.api<{ connections: { name: string }[] }>('GET', '/api/v1/connections');
  const names = new Set(existing.body.connections.map((c) => c.name));
  if (!names.has('MY_GMAIL')) await stack.createConnection('MY_GMAIL', 'gmail');
  if (!names.has('MY_CALENDAR')) await stack.createConnection('MY_CALENDAR', 'googlecalendar');
  const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
    name,
    description: 'Reads mail and creates reminder events',
    connection_tool_mappings: [
      { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
      { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
    ],
  });
  if (created.status !== 201) throw new Error(`creating config: ${JSON.stringify(created.body)}`);
  return created.body.config;
}

export async function ensureInstance(
  stack: Stack,
  configName: string,
  user: string,
  name?: string,
): Promise<ApiInstance> {
  const response = await stack.api<{ instance: ApiInstance }>('POST', '/api/v1/mcp/instances', {
    config_name: configName,
    user_identifier: user,
    ...(name ? { name } : {}),
  });
  if (response.status !== 200 && response.status !== 201)
    throw new Error(`ensure instance: ${JSON.stringify(response.body)}`);
  return response.body.instance;
}

export async function mintToken(stack: Stack, configId: string, identifier: string, expiry?: string) {
  return stack.api<{ token: string; expires_at: string }>('POST', `/api/v1/mcp/configs/${configId}/tokens`, {
    identifier,
    ...(expiry ? { expiry } : {}),
  });
}

/** An official SDK v2 client connected to `url` through `stack.fetch` (legacy initialize unless `modern`). */
export async function connectV2(
  stack: Pick<Stack, 'fetch'>,
  url: string,
  options: { token?: string; modern?: boolean } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'switchboard-test', version: '1.0.0' },
    options.modern ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: stack.fetch,
    ...(options.token ? { requestInit: { headers: { authorization: `Bearer ${options.token}` } } } : {}),
  });
  await client.connect(transport);
  return client;
}

/** Posts one raw JSON-RPC body to an MCP URL, through `stack.fetch`, with the headers a 2025-06-18 client sends. */
export async function rawPost(
  stack: Pick<Stack, 'fetch'>,
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return stack.fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body,
  });
}

/** The JSON-RPC message of a response, whether it came as JSON or as one SSE event. */
export async function readRpc(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .filter(Boolean);
    return JSON.parse(data[data.length - 1] ?? '{}') as Record<string, unknown>;
  }
  return JSON.parse(text) as Record<string, unknown>;
}
