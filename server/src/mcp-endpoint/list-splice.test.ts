import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createMcpHandler, type McpHttpHandler, type Tool } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolExecutor } from '../execution/executor.js';
import { McpTarget, type TargetMapping } from '../mcp/targets.js';
import { type ToolListing, ToolSurface } from '../mcp/tool-surface.js';
import { createCatalog } from '../providers/index.js';
import { isToolsListRequest, ListSplice } from './list-splice.js';
import { McpRequestState } from './request-state.js';
import { buildMcpServer } from './server-factory.js';

type Era = 'legacy' | 'modern';
type RpcId = string | number;

const MAPPINGS: TargetMapping[] = [
  { connectionName: 'GMAIL', provider: 'gmail', tools: [] },
  { connectionName: 'CALENDAR', provider: 'googlecalendar', tools: [] },
];
const AWKWARD_ID = 'an id with "quotes" and "tools":[] in it';

/** A tools/list request as a client of each era sends it (see bench/src/load.ts for the modern shape). */
function listRequest(
  era: Era,
  id: RpcId,
): { request: Request; parsed: unknown; body: string; headers: Record<string, string> } {
  const params =
    era === 'modern'
      ? {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        }
      : {};
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params });
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    ...(era === 'modern'
      ? { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }
      : { 'mcp-protocol-version': '2025-06-18' }),
  };
  return {
    request: new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body }),
    parsed: JSON.parse(body) as unknown,
    body,
    headers,
  };
}

/** The JSON-RPC response in an answer that is either JSON or an SSE stream of messages. */
type RpcAnswer = { id?: RpcId; result?: { tools?: unknown; ttlMs?: unknown; cacheScope?: unknown } };

function rpcAnswer(text: string, contentType: string | null): RpcAnswer {
  if (!contentType?.includes('text/event-stream')) return JSON.parse(text);
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as RpcAnswer);
  const response = messages.find((message) => 'result' in message || 'error' in message);
  if (!response) throw new Error(`no JSON-RPC response in ${text.slice(0, 200)}`);
  return response;
}

interface Served {
  status: number;
  contentType: string | null;
  contentLength: string | null;
  headers: [string, string][];
  bytes: Buffer;
  text: string;
}

async function read(response: Response): Promise<Served> {
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    contentLength: response.headers.get('content-length'),
    // Content-Length aside: a spliced answer states its length, the SDK's own leaves it to the server.
    headers: [...response.headers].filter(([name]) => name !== 'content-length'),
    bytes,
    text: bytes.toString('utf8'),
  };
}

/** Placeholders are single-tool lists under a per-process random name. */
function expectPlaceholder(tools: Tool[], real: Tool[]) {
  expect(tools).not.toBe(real);
  expect(tools).toHaveLength(1);
  expect(tools[0]?.name).toMatch(/^switchboard-tools-[0-9a-f-]{36}$/);
}

/** Teaches a fresh splice the serialization of `listing` in `era`, as a plain answer that contains it would. */
async function learnByHand(listing: ToolListing, era: Era): Promise<void> {
  const splice = new ListSplice();
  splice.result(listing, era);
  await splice.finish(new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: listing.tools } })));
}

describe('the tools/list splice behind the real MCP handler', () => {
  let surface: ToolSurface;
  let tools: Tool[];
  /** What the tools/list handler gave the SDK, one entry per request, with the era it served. */
  let handed: { era: Era; result: { tools: Tool[] } }[];
  let handler: McpHttpHandler;

  const target = new McpTarget('cfg_1', 'everything', '', 'john-doe', MAPPINGS);
  const authInfo = (splice?: ListSplice) => new McpRequestState(target, splice).authInfo();

  /** A splice that records what the tools/list handler gave the SDK through it. */
  class RecordingSplice extends ListSplice {
    override result(listing: ToolListing, era: Era): { tools: Tool[] } {
      const result = super.result(listing, era);
      handed.push({ era, result });
      return result;
    }
  }

  /** The endpoint's path: the SDK answers with the splice, and the splice finishes the answer. */
  const spliced = async (era: Era, id: RpcId): Promise<Response | undefined> => {
    const { request, parsed } = listRequest(era, id);
    const splice = new RecordingSplice();
    return splice.finish(await handler.fetch(request, { authInfo: authInfo(splice), parsedBody: parsed }));
  };
  /** The SDK's own answer, with no splice involved. */
  const unspliced = async (era: Era, id: RpcId): Promise<Served> => {
    const { request, parsed } = listRequest(era, id);
    return read(await handler.fetch(request, { authInfo: authInfo(), parsedBody: parsed }));
  };
  const servedSpliced = async (era: Era, id: RpcId): Promise<Served> => {
    const response = await spliced(era, id);
    expect(response, 'the splice gave up and asked for a second serving').toBeDefined();
    return read(response as Response);
  };

  beforeEach(() => {
    // A fresh surface makes fresh list arrays, which no earlier test has taught the splice.
    surface = new ToolSurface(createCatalog());
    tools = surface.list(MAPPINGS);
    handed = [];
    // The endpoint's own server; tools/list never reaches the executor.
    const deps = { surface, executor: {} as ToolExecutor };
    handler = createMcpHandler((ctx) => buildMcpServer(McpRequestState.of(ctx.authInfo), ctx.era, deps));
  });

  it('lists the whole catalog (a list worth splicing)', () => {
    expect(tools.length).toBeGreaterThan(20);
    expect(JSON.stringify(tools).length).toBeGreaterThan(50_000);
  });

  describe.each<Era>(['legacy', 'modern'])('on a %s request', (era) => {
    it('answers the spliced second request byte for byte as the learning first one', async () => {
      const first = await servedSpliced(era, 1);
      const second = await servedSpliced(era, 1);

      expect(handed.map((h) => h.era)).toEqual([era, era]);
      expect(handed[0]?.result.tools).toBe(tools);
      expectPlaceholder(handed[1]?.result.tools ?? [], tools);

      expect(second.status).toBe(200);
      expect(second.status).toBe(first.status);
      expect(second.contentType).toBe(first.contentType);
      expect(second.text).toBe(first.text);
      expect(second.bytes.equals(first.bytes)).toBe(true);
      const own = await unspliced(era, 1);
      expect(second.bytes.equals(own.bytes)).toBe(true);
      expect(second.headers).toEqual(own.headers);

      const answer = rpcAnswer(second.text, second.contentType);
      expect(answer.id).toBe(1);
      expect(answer.result?.tools).toEqual(JSON.parse(JSON.stringify(tools)));
      expect(second.text).not.toContain('switchboard-tools-');
    });

    it('puts back the id of each request, a number or a string with quotes and "tools":[]', async () => {
      await servedSpliced(era, 1);
      for (const id of [42, 0, AWKWARD_ID]) {
        const before = handed.length;
        const served = await servedSpliced(era, id);
        expectPlaceholder(handed[before]?.result.tools ?? [], tools);
        const answer = rpcAnswer(served.text, served.contentType);
        expect(answer.id).toBe(id);
        expect(answer.result?.tools).toEqual(JSON.parse(JSON.stringify(tools)));
        expect(served.bytes.equals((await unspliced(era, id)).bytes), `id ${JSON.stringify(id)}`).toBe(true);
      }
    });

    it('states the content-length of the spliced body', async () => {
      await servedSpliced(era, 1);
      const served = await servedSpliced(era, AWKWARD_ID);
      expectPlaceholder(handed[1]?.result.tools ?? [], tools);
      expect(Number(served.contentLength)).toBe(served.bytes.length);
    });
  });

  it('learns each era on its own', async () => {
    await servedSpliced('legacy', 1);
    await servedSpliced('modern', 1);
    await servedSpliced('modern', 2);
    await servedSpliced('legacy', 2);
    expect(handed.map((h) => h.era)).toEqual(['legacy', 'modern', 'modern', 'legacy']);
    expect(handed[0]?.result.tools).toBe(tools);
    expect(handed[1]?.result.tools).toBe(tools);
    expectPlaceholder(handed[2]?.result.tools ?? [], tools);
    expectPlaceholder(handed[3]?.result.tools ?? [], tools);
  });

  it('tells a 2026-07-28 client to keep the list five minutes, spliced or not, and a 2025 client nothing', async () => {
    await servedSpliced('modern', 1);
    const modern = await servedSpliced('modern', 2);
    expectPlaceholder(handed[1]?.result.tools ?? [], tools);
    expect(rpcAnswer(modern.text, modern.contentType).result).toMatchObject({ ttlMs: 300_000, cacheScope: 'private' });
    const legacy = await servedSpliced('legacy', 3);
    expect(rpcAnswer(legacy.text, legacy.contentType).result).not.toHaveProperty('ttlMs');
  });

  describe('served over a real socket as the endpoint serves it', () => {
    let base = '';
    let close: () => void = () => undefined;

    beforeAll(async () => {
      await new Promise<void>((resolve) => {
        const server = serve(
          {
            port: 0,
            hostname: '127.0.0.1',
            // The endpoint's serve(): the body read once, the splice for a tools/list, and a
            // second serving without it when the splice gives up.
            fetch: async (request: Request) => {
              const parsed = JSON.parse(await request.text()) as unknown;
              let response: Response | undefined;
              if (isToolsListRequest(parsed)) {
                const splice = new RecordingSplice();
                response = await splice.finish(
                  await handler.fetch(request, { authInfo: authInfo(splice), parsedBody: parsed }),
                );
              }
              return response ?? handler.fetch(request, { authInfo: authInfo(), parsedBody: parsed });
            },
          },
          (info: AddressInfo) => {
            base = `http://127.0.0.1:${info.port}`;
            resolve();
          },
        );
        close = () => server.close();
      });
    });
    afterAll(() => close());

    it.each<Era>(['legacy', 'modern'])('delivers the whole spliced %s answer', async (era) => {
      const post = async (id: RpcId) => {
        const { headers, body } = listRequest(era, id);
        return read(await fetch(`${base}/mcp`, { method: 'POST', headers, body }));
      };
      const first = await post(1);
      const second = await post(AWKWARD_ID);
      expectPlaceholder(handed[1]?.result.tools ?? [], tools);
      expect(second.status).toBe(200);
      expect(second.contentType).toBe(first.contentType);
      if (second.contentLength !== null) expect(Number(second.contentLength)).toBe(second.bytes.length);
      const answer = rpcAnswer(second.text, second.contentType);
      expect(answer.id).toBe(AWKWARD_ID);
      expect(answer.result?.tools).toEqual(JSON.parse(JSON.stringify(tools)));
    });
  });
});

describe('ListSplice.finish', () => {
  const freshListing = () =>
    new ToolSurface(createCatalog()).listing([{ connectionName: 'G', provider: 'gmail', tools: [] }]);

  it('gives undefined for an answer without the placeholder, such as an error', async () => {
    const listing = freshListing();
    const { tools } = listing;
    await learnByHand(listing, 'modern');
    const splice = new ListSplice();
    expectPlaceholder(splice.result(listing, 'modern').tools, tools);
    const error = new Response('{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error"}}', {
      headers: { 'content-type': 'application/json' },
    });
    expect(await splice.finish(error)).toBeUndefined();
  });

  it('gives undefined when the placeholder came out twice', async () => {
    const listing = freshListing();
    await learnByHand(listing, 'legacy');
    const splice = new ListSplice();
    const placeholder = JSON.stringify(splice.result(listing, 'legacy').tools);
    const twice = new Response(`{"a":${placeholder},"b":${placeholder}}`);
    expect(await splice.finish(twice)).toBeUndefined();
  });

  it('writes the kept list in place of a placeholder that came out once', async () => {
    const listing = freshListing();
    const { tools } = listing;
    await learnByHand(listing, 'legacy');
    const splice = new ListSplice();
    const placeholder = JSON.stringify(splice.result(listing, 'legacy').tools);
    const finished = await splice.finish(
      new Response(`{"result":{"tools":${placeholder}},"id":7}`, {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': '999', 'x-kept': 'yes' },
      }),
    );
    const expected = `{"result":{"tools":${JSON.stringify(tools)}},"id":7}`;
    expect(finished?.headers.get('content-length')).toBe(String(Buffer.byteLength(expected)));
    expect(finished?.headers.get('x-kept')).toBe('yes');
    expect(await finished?.text()).toBe(expected);
  });

  it('never splices a list whose answer did not contain its own serialization', async () => {
    const listing = freshListing();
    const { tools } = listing;
    const learning = new ListSplice();
    expect(learning.result(listing, 'modern').tools).toBe(tools);
    const rewritten = JSON.stringify({ result: { tools: tools.map((t) => ({ ...t, extra: true })) } });
    expect(await (await learning.finish(new Response(rewritten)))?.text()).toBe(rewritten);

    const later = new ListSplice();
    expect(later.result(listing, 'modern').tools).toBe(tools);
    const answer = new Response('{}');
    expect(await later.finish(answer)).toBe(answer);
  });

  it('does not learn from an answer that is not a 200', async () => {
    const listing = freshListing();
    const { tools } = listing;
    const failed = new ListSplice();
    failed.result(listing, 'legacy');
    const error = new Response(JSON.stringify({ tools }), { status: 500 });
    expect(await failed.finish(error)).toBe(error);

    const next = new ListSplice();
    expect(next.result(listing, 'legacy').tools).toBe(tools);
    await next.finish(new Response(JSON.stringify({ result: { tools } })));
    expectPlaceholder(new ListSplice().result(listing, 'legacy').tools, tools);
  });
});

describe("the tool surface's list cache", () => {
  it('keeps the served text with its list, and drops both when the cache starts over', () => {
    const surface = new ToolSurface(createCatalog());
    const first = surface.listing(MAPPINGS);
    first.keepServed('legacy', Buffer.from('[]'));
    expect(surface.listing(MAPPINGS)).toBe(first);
    expect(first.served('legacy')?.toString()).toBe('[]');

    // 2,000 other mapping sets fill the cache, and the next one starts it over.
    for (let i = 0; i < 2_000; i++) surface.listing([{ connectionName: 'G', provider: 'gmail', tools: [`t${i}`] }]);
    const again = surface.listing(MAPPINGS);
    expect(again).not.toBe(first);
    expect(again.served('legacy')).toBeUndefined();
    first.keepServed('modern', Buffer.from('[]'));
    expect(first.served('modern'), 'a list the cache dropped keeps nothing').toBeUndefined();
  });
});

describe('isToolsListRequest', () => {
  it.each([
    ['a request with a number id', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ['a request with a string id', { jsonrpc: '2.0', id: 'x', method: 'tools/list', params: {} }],
    ['a request with id 0', { jsonrpc: '2.0', id: 0, method: 'tools/list' }],
  ])('is true for %s', (_, body) => {
    expect(isToolsListRequest(body)).toBe(true);
  });

  it.each([
    ['a batch', [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]],
    ['a notification (no id)', { jsonrpc: '2.0', method: 'tools/list' }],
    ['a null id', { jsonrpc: '2.0', id: null, method: 'tools/list' }],
    ['another method', { jsonrpc: '2.0', id: 1, method: 'tools/call' }],
    ['null', null],
    ['a string', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'],
    ['undefined', undefined],
  ])('is false for %s', (_, body) => {
    expect(isToolsListRequest(body)).toBe(false);
  });
});
