import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installExternalTools } from '../support/external-tools.js';
import { type Stack, startStack } from '../support/stack.js';
import {
  type ApiConfig,
  type ApiInstance,
  connectV2,
  createSeedConfig,
  ensureInstance,
  mintToken,
  SEED_TOOLS,
} from './support.js';

const run = promisify(execFile);

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

describe('official MCP clients against both URL kinds', () => {
  let stack: Stack;
  let config: ApiConfig;
  let instance: ApiInstance;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ listen: true });
    config = await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'john-doe', 'john.doe@example.com');
    instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    const minted = await mintToken(stack, config.id, 'john-doe', '600s');
    expect(minted.status).toBe(200);
    token = minted.body.token;
  });
  afterAll(() => stack?.close());

  const targets = () => [
    { kind: 'instance URL', url: instance.url, headers: {} as Record<string, string> },
    { kind: 'session-token URL', url: config.mcp_server_url, headers: { authorization: `Bearer ${token}` } },
  ];

  it.each(['legacy', 'modern'] as const)('SDK v2 client (%s era) lists and calls tools on both URLs', async (era) => {
    for (const target of targets()) {
      const client = await connectV2(stack, target.url, {
        token: target.headers.authorization?.slice(7),
        modern: era === 'modern',
      });
      const { tools } = await client.listTools();
      expect(
        tools.map((t) => t.name),
        target.kind,
      ).toEqual(SEED_TOOLS);
      const fetchMails = tools.find((t) => t.name === 'gmail_fetch_mails');
      expect(fetchMails?.inputSchema.type).toBe('object');
      expect(fetchMails?.annotations?.readOnlyHint).toBe(true);
      const result = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 2 } });
      expect(result.isError, target.kind).toBeFalsy();
      expect((JSON.parse(textOf(result)) as { messages: unknown[] }).messages).toHaveLength(2);
      await client.close();
    }
  });

  it('SDK v1 client (StreamableHTTPClientTransport) lists and calls tools on both URLs', async () => {
    for (const target of targets()) {
      const client = new ClientV1({ name: 'v1-client', version: '1.0.0' });
      await client.connect(new TransportV1(new URL(target.url), { requestInit: { headers: target.headers } }));
      const { tools } = await client.listTools();
      expect(
        tools.map((t) => t.name),
        target.kind,
      ).toEqual(SEED_TOOLS);
      const result = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
      expect(result.isError, target.kind).toBeFalsy();
      await client.close();
    }
  });

  it('LangChain MultiServerMCPClient loads the tools and invokes one on both URLs', async () => {
    const client = new MultiServerMCPClient({
      mcpServers: Object.fromEntries(
        targets().map((t, i) => [
          `switchboard${i}`,
          { transport: 'http' as const, url: t.url, headers: t.headers, automaticSSEFallback: false },
        ]),
      ),
      prefixToolNameWithServerName: true,
      useStandardContentBlocks: true,
    });
    try {
      const tools = await client.getTools();
      expect(tools.map((t) => t.name).sort()).toEqual(
        ['switchboard0', 'switchboard1'].flatMap((server) => SEED_TOOLS.map((tool) => `${server}__${tool}`)).sort(),
      );
      for (const server of ['switchboard0', 'switchboard1']) {
        const tool = tools.find((t) => t.name === `${server}__gmail_fetch_mails`);
        const output = await tool?.invoke({ max_results: 1 });
        expect(JSON.stringify(output)).toContain('messages');
      }
    } finally {
      await client.close();
    }
  });

  it('MCP Inspector CLI lists and calls tools on an instance URL', async () => {
    // Inspector 0.15 cannot send an Authorization header, so it can only use instance URLs.
    const cli = ['@modelcontextprotocol/inspector', '--cli', `${instance.url}/mcp`, '--transport', 'http'];
    const listed = await run('npx', [...cli, '--method', 'tools/list'], { cwd: process.cwd(), timeout: 60_000 });
    const list = JSON.parse(listed.stdout) as { tools: { name: string }[] };
    expect(list.tools.map((t) => t.name)).toEqual(SEED_TOOLS);
    const called = await run(
      'npx',
      [...cli, '--method', 'tools/call', '--tool-name', 'gmail_fetch_mails', '--tool-arg', 'max_results=1'],
      { cwd: process.cwd(), timeout: 60_000 },
    );
    const result = JSON.parse(called.stdout) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('messages');
  }, 120_000);

  it('MCP Inspector 2 CLI (current release, on Node 22) lists and calls tools on both URL kinds', async () => {
    // The current Inspector needs Node 22, which the npm package node@22 provides offline.
    const dir = await installExternalTools('inspector', ['node@22', '@modelcontextprotocol/inspector@2.12.0']);
    const node22 = `${dir}/node_modules/node/bin/node`;
    const launcher = `${dir}/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js`;
    const targets = [
      { url: instance.url, headers: [] as string[] },
      { url: config.mcp_server_url, headers: ['--header', `Authorization: Bearer ${token}`] },
    ];
    for (const target of targets) {
      const cli = [launcher, '--cli', target.url, '--transport', 'http', ...target.headers];
      const listed = await run(node22, [...cli, '--method', 'tools/list'], { timeout: 60_000 });
      const list = JSON.parse(listed.stdout) as { tools: { name: string }[] };
      expect(list.tools.map((t) => t.name)).toEqual(SEED_TOOLS);
      const called = await run(
        node22,
        [...cli, '--method', 'tools/call', '--tool-name', 'gmail_fetch_mails', '--tool-arg', 'max_results=1'],
        { timeout: 60_000 },
      );
      const result = JSON.parse(called.stdout) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain('messages');
    }
  }, 400_000);
});
