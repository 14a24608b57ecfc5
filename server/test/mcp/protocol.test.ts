import type { CallToolResult } from '@modelcontextprotocol/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiInstance, createSeedConfig, ensureInstance, rawPost, readRpc } from './support.js';

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

/** A deterministic generator, so a failing body can be reproduced from its index. */
function prng(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

function malformedBodies(count: number): string[] {
  const random = prng(42);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const values: unknown[] = [null, 0, -1, 1.5, '', 'x', true, [], {}, [1], { a: 1 }, 'tools/list', 2 ** 60];
  const fixed: string[] = [
    '',
    '{',
    '}',
    '[',
    '[]',
    'null',
    '42',
    '"str"',
    'true',
    '{"jsonrpc":"2.0"}',
    '{"jsonrpc":"1.0","id":1,"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":{},"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":1,"method":42}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"gmail_fetch_mails","arguments":"x"}}',
    '{"jsonrpc":"2.0","id":1,"method":"no/such/method","params":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[]}',
    '[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"bad":true}]',
    '\u0000\u0001\u0002',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01"}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":42}}}',
    `{"jsonrpc":"2.0","id":1,"method":"${'a'.repeat(5000)}"}`,
    `${'['.repeat(2000)}${']'.repeat(2000)}`,
  ];
  const out = [...fixed];
  while (out.length < count) {
    const kind = Math.floor(random() * 4);
    if (kind === 0) {
      // truncate a valid request
      const valid = JSON.stringify({
        jsonrpc: '2.0',
        id: Math.floor(random() * 100),
        method: 'tools/call',
        params: { name: 'gmail_fetch_mails', arguments: { max_results: 1 } },
      });
      out.push(valid.slice(0, Math.floor(random() * (valid.length - 1))));
    } else if (kind === 1) {
      // wrong types in each member
      out.push(JSON.stringify({ jsonrpc: pick(values), id: pick(values), method: pick(values), params: pick(values) }));
    } else if (kind === 2) {
      // random bytes
      out.push(
        Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
          String.fromCharCode(Math.floor(random() * 128)),
        ).join(''),
      );
    } else {
      // a valid envelope around nonsense params
      out.push(
        JSON.stringify({
          jsonrpc: '2.0',
          id: Math.floor(random() * 1000),
          method: pick(['tools/call', 'initialize']),
          params: { name: pick(values), arguments: pick(values), protocolVersion: pick(values) },
        }),
      );
    }
  }
  return out.slice(0, count);
}

describe('the MCP endpoint speaks the protocol and its errors', () => {
  let stack: Stack;
  let instance: ApiInstance;
  beforeAll(async () => {
    stack = await startStack();
    await createSeedConfig(stack);
    instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
  });
  afterAll(() => stack?.close());

  it('answers 200 generated malformed JSON-RPC bodies each with a well-formed error, and keeps serving', async () => {
    const bodies = malformedBodies(200);
    expect(bodies).toHaveLength(200);
    for (const [index, body] of bodies.entries()) {
      const response = await rawPost(stack, instance.url, body);
      const where = `body #${index}: ${body.slice(0, 80)}`;
      expect(response.status, where).toBeLessThan(500);
      const rpc = await readRpc(response);
      expect(rpc.jsonrpc, where).toBe('2.0');
      const error = rpc.error as { code: unknown; message: unknown } | undefined;
      expect(Number.isInteger(error?.code), where).toBe(true);
      expect(typeof error?.message, where).toBe('string');
    }
    const after = await rawPost(stack, instance.url, listTools);
    expect(after.status).toBe(200);
    expect(((await readRpc(after)).result as { tools: unknown[] }).tools).toHaveLength(2);
  });

  it('answers a parse error with -32700 and an invalid request with -32600', async () => {
    const parse = await readRpc(await rawPost(stack, instance.url, '{"jsonrpc":'));
    expect((parse.error as { code: number }).code).toBe(-32700);
    const invalid = await readRpc(await rawPost(stack, instance.url, '{"jsonrpc":"2.0","id":1}'));
    expect((invalid.error as { code: number }).code).toBe(-32600);
  });

  it('refuses a wrong Accept with 406 and an unsupported MCP-Protocol-Version with 400', async () => {
    const accept = await rawPost(stack, instance.url, listTools, { accept: 'text/html' });
    expect(accept.status).toBe(406);
    const version = await rawPost(stack, instance.url, listTools, { 'mcp-protocol-version': '1999-01-01' });
    expect(version.status).toBe(400);
    const contentType = await rawPost(stack, instance.url, listTools, { 'content-type': 'text/plain' });
    expect(contentType.status).toBe(415);
  });

  it('answers GET and DELETE with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await stack.fetch(instance.url, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow'), method).toBe('POST');
    }
  });

  it('rejects a foreign Origin or Host (DNS rebinding) and accepts its own origin', async () => {
    const foreignOrigin = await rawPost(stack, instance.url, listTools, { origin: 'http://evil.example.com' });
    expect(foreignOrigin.status).toBe(403);
    const nullOrigin = await rawPost(stack, instance.url, listTools, { origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const ownOrigin = await rawPost(stack, instance.url, listTools, { origin: stack.url });
    expect(ownOrigin.status).toBe(200);
    // stack.fetch() will not forge Host, so this request goes through the app in-process.
    const foreignHost = await stack.app.request(new URL(instance.url).pathname, {
      method: 'POST',
      headers: {
        host: 'evil.example.com',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: listTools,
    });
    expect(foreignHost.status).toBe(403);
  });

  it('serves 2026-07-28, 2025-11-25, 2025-06-18 and 2025-03-26 clients', async () => {
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
      const init = await rawPost(
        stack,
        instance.url,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        }),
      );
      expect(((await readRpc(init)).result as { protocolVersion: string }).protocolVersion, version).toBe(version);
      const list = await rawPost(stack, instance.url, listTools, { 'mcp-protocol-version': version });
      expect(((await readRpc(list)).result as { tools: unknown[] }).tools, version).toHaveLength(2);
    }
    const modern = new Client({ name: 'modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(instance.url), { fetch: stack.fetch }));
    expect(modern.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    expect((await modern.listTools()).tools).toHaveLength(2);
    await modern.close();
  });

  it('offers the connect link as a URL elicitation to a 2026-07-28 client that declared it, and retries after consent', async () => {
    const elicited: string[] = [];
    const client = new Client(
      { name: 'elicit', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } },
    );
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url?: string };
      if (params.mode !== 'url' || !params.url) return { action: 'decline' };
      elicited.push(params.url);
      // The "user" opens the link and consents, then the client retries the call.
      const page = await stack.consent(params.url, { email: 'john.doe@example.com' });
      return { action: page.status === 200 ? 'accept' : 'decline' };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(instance.url), { fetch: stack.fetch }));
    const result = (await client.callTool({
      name: 'gmail_fetch_mails',
      arguments: { max_results: 1 },
    })) as CallToolResult;
    expect(elicited).toHaveLength(1);
    expect(elicited[0]).toMatch(new RegExp(`^${stack.url}/connect/`));
    expect(result.isError).toBeFalsy();

    // A client that declines gets the error result with the link instead, asked once only.
    const declining = new Client(
      { name: 'decline', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } },
    );
    let asked = 0;
    declining.setRequestHandler('elicitation/create', async () => {
      asked++;
      return { action: 'decline' };
    });
    await declining.connect(new StreamableHTTPClientTransport(new URL(instance.url), { fetch: stack.fetch }));
    const refused = (await declining.callTool({
      name: 'googlecalendar_create_event',
      arguments: { summary: 'x', start_datetime: '2026-12-01T10:00:00Z' },
    })) as CallToolResult;
    expect(asked).toBe(1);
    expect(refused.isError).toBe(true);
    await client.close();
    await declining.close();
  });
});
