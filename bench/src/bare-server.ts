import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { type CallToolResult, createMcpHandler, Server } from '@modelcontextprotocol/server';
import { Agent, request } from 'undici';

/**
 * The baseline: the smallest MCP server built with the same SDK v2 and the same stateless
 * handler as Switchboard's endpoint, serving one tool that makes the same two sandbox calls
 * as gmail_fetch_mails {max_results: 1} (messages.list, then messages.get) with one fixed
 * token. No database, no accounts, no audit log: what is left over is the gateway's cost.
 *
 * `BARE_HTTP_CLIENT=fetch` (the default) calls the sandbox with fetch(), as a minimal server
 * would; `undici` uses undici's request API with a keep-alive pool, the client Switchboard's
 * provider calls use, so the two can be compared with the HTTP client held equal.
 *
 * `PORT=… SANDBOX_URL=… ACCESS_TOKEN=… [BARE_HTTP_CLIENT=undici] node dist/bare-server.js`
 */
const port = Number(process.env.PORT ?? '0');
const sandboxUrl = process.env.SANDBOX_URL ?? '';
const token = process.env.ACCESS_TOKEN ?? '';
const gmail = `${sandboxUrl}/gmail/v1/users/me`;

const TOOL = {
  name: 'gmail_fetch_mails',
  description: 'Lists the newest messages and reads each one.',
  inputSchema: {
    type: 'object' as const,
    properties: { max_results: { type: 'integer', minimum: 1, maximum: 500 } },
  },
};

interface Header {
  name: string;
  value: string;
}
interface Part {
  mimeType?: string;
  body?: { data?: string };
  parts?: Part[];
}

function plainText(part: Part | undefined): string {
  if (!part) return '';
  if (part.mimeType === 'text/plain' && part.body?.data)
    return Buffer.from(part.body.data, 'base64url').toString('utf8');
  for (const child of part.parts ?? []) {
    const text = plainText(child);
    if (text) return text;
  }
  return '';
}

const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

async function google<T>(url: string): Promise<T> {
  if (process.env.BARE_HTTP_CLIENT === 'undici') {
    const answer = await request(url, { headers, dispatcher });
    if (answer.statusCode !== 200) throw new Error(`sandbox answered ${answer.statusCode}`);
    return (await answer.body.json()) as T;
  }
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`sandbox answered ${response.status}`);
  return (await response.json()) as T;
}

async function fetchMails(maxResults: number): Promise<CallToolResult> {
  const listed = await google<{ messages?: { id: string }[] }>(`${gmail}/messages?maxResults=${maxResults}`);
  const messages = await Promise.all(
    (listed.messages ?? []).map(async (ref) => {
      const message = await google<{
        id: string;
        threadId: string;
        snippet: string;
        labelIds?: string[];
        payload?: Part & { headers?: Header[] };
      }>(`${gmail}/messages/${ref.id}?format=full`);
      const header = (name: string) =>
        message.payload?.headers?.find((h) => h.name.toLowerCase() === name)?.value ?? '';
      return {
        id: message.id,
        threadId: message.threadId,
        labelIds: message.labelIds ?? [],
        snippet: message.snippet,
        from: header('from'),
        to: header('to'),
        subject: header('subject'),
        date: header('date'),
        body: plainText(message.payload),
      };
    }),
  );
  return { content: [{ type: 'text', text: JSON.stringify({ messages }) }] };
}

function buildServer(): Server {
  const server = new Server({ name: 'bare', version: '0.1.0' }, { capabilities: { tools: { listChanged: false } } });
  server.setRequestHandler('tools/list', () => ({ tools: [TOOL] }));
  server.setRequestHandler('tools/call', async (request) => {
    const args = (request.params.arguments ?? {}) as { max_results?: number };
    try {
      return await fetchMails(args.max_results ?? 10);
    } catch (error) {
      return { content: [{ type: 'text', text: String(error) }], isError: true };
    }
  });
  return server;
}

/**
 * `GET /stats`: this process's event-loop delay since the last read (then reset) and its GC
 * pauses so far, measured as Switchboard's /metrics measures its own (prom-client's
 * monitorEventLoopDelay at 10 ms and the `gc` performance entries), so the bench can set the
 * two side by side.
 */
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
// The shape of the bench's GcTotals (overhead.ts), in seconds as prom-client counts them.
const gc = { count: 0, seconds: 0, within1ms: 0, within10ms: 0, minor: 0, minorSeconds: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    gc.count++;
    gc.seconds += entry.duration / 1000;
    if (entry.duration <= 1) gc.within1ms++;
    if (entry.duration <= 10) gc.within10ms++;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gc.minor++;
      gc.minorSeconds += entry.duration / 1000;
    }
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

function stats(): Response {
  const ms = (ns: number) => ns / 1e6;
  const body = {
    loop: {
      p50: ms(loop.percentile(50)),
      p90: ms(loop.percentile(90)),
      p99: ms(loop.percentile(99)),
      max: ms(loop.max),
    },
    gc,
  };
  loop.reset();
  return Response.json(body);
}

const handler = createMcpHandler(() => buildServer());
const fetchHandler = (request: Request) =>
  request.method === 'GET' && new URL(request.url).pathname === '/stats' ? stats() : handler.fetch(request);
serve({ fetch: fetchHandler, port, hostname: '127.0.0.1' }, (info) => {
  console.log(`bare MCP server ready on ${info.port}`);
});

// Exit on SIGTERM through process.exit, so a --cpu-prof profile is written (bench --profile).
process.once('SIGTERM', () => process.exit(0));
