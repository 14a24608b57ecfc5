import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseTracing } from '../src/observability/tracing.js';
import { createSeedConfig, ensureInstance, rawPost, readRpc } from './mcp/support.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

const callFetchMails = JSON.stringify({
  jsonrpc: '2.0',
  id: 3,
  method: 'tools/call',
  params: { name: 'gmail_fetch_mails', arguments: { max_results: 1 } },
});

/** A sink for the server's log lines, parsed. */
function logSink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}

/** `name{labels} value` samples of one metric in Prometheus text. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labels: Record<string, string> = {};
      for (const match of line.matchAll(/(\w+)="([^"]*)"/g)) labels[match[1] as string] = match[2] as string;
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

function sum(text: string, name: string, where: Record<string, string> = {}): number {
  return samples(text, name)
    .filter((sample) => Object.entries(where).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

describe('observability: metrics, traces, access logs and readiness', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const logs = logSink();
  const providerHeaders: Headers[] = [];
  let stack: Stack;
  let database: TestDatabase | undefined;
  let instanceUrl = '';
  let forward: typeof fetch = globalThis.fetch;

  beforeAll(async () => {
    provider.register();
    database = await createTestDatabase();
    stack = await startStack({
      database: { ...database, db: database.db.withPlugin(new DatabaseTracing('sqlite')) },
      logs: logs.stream,
      // Every call the server makes (OAuth and provider API) passes here on its way to the sandbox.
      fetch: (input, init) => {
        providerHeaders.push(new Headers(init?.headers));
        return forward(input, init);
      },
      env: {
        SWITCHBOARD_METRICS_TOKEN: METRICS_TOKEN,
        SWITCHBOARD_LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      },
    });
    forward = stack.fetch;
    await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    instanceUrl = (await ensureInstance(stack, 'reminder-manager', 'john-doe')).url as string;
  });
  afterAll(async () => {
    await stack?.close();
    // The stack closes only a database it made itself.
    await database?.close();
    await provider.shutdown();
  });

  const scrape = async (token = METRICS_TOKEN) =>
    stack.fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });

  it('serves /metrics only with the bearer token', async () => {
    expect((await stack.fetch(`${stack.url}/metrics`)).status).toBe(401);
    expect((await scrape('wrong-token-wrong-token-wrong-token')).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
  });

  it('moves the call counter and both latency histograms with one MCP tool call, and no label holds an id or secret', async () => {
    const before = await (await scrape()).text();
    const response = await rawPost(stack, instanceUrl, callFetchMails);
    const rpc = await readRpc(response);
    expect((rpc.result as { isError?: boolean }).isError).toBeFalsy();
    const after = await (await scrape()).text();

    const success = { tool: 'gmail_fetch_mails', provider: 'gmail', source: 'MCP', outcome: 'success' };
    expect(sum(after, 'switchboard_tool_calls_total', success)).toBe(
      sum(before, 'switchboard_tool_calls_total', success) + 1,
    );
    expect(sum(after, 'switchboard_tool_call_own_seconds_count', { source: 'MCP' })).toBe(
      sum(before, 'switchboard_tool_call_own_seconds_count', { source: 'MCP' }) + 1,
    );
    expect(sum(after, 'switchboard_tool_call_provider_seconds_count', { provider: 'gmail' })).toBe(
      sum(before, 'switchboard_tool_call_provider_seconds_count', { provider: 'gmail' }) + 1,
    );
    expect(sum(after, 'switchboard_tool_call_provider_seconds_sum', { provider: 'gmail' })).toBeGreaterThan(
      sum(before, 'switchboard_tool_call_provider_seconds_sum', { provider: 'gmail' }),
    );
    expect(sum(after, 'switchboard_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(0);
    expect(sum(after, 'switchboard_connected_accounts', { status: 'ACTIVE' })).toBe(1);
    expect(samples(after, 'switchboard_write_behind_pending').map((s) => s.labels.queue)).toEqual(
      expect.arrayContaining(['tool_call_log', 'usage_marks']),
    );

    // An unknown tool name comes from the caller: it is never a label.
    await stack.api('POST', '/api/v1/execute_tool', {
      tool_name: 'made_up_tool_ca_12345',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: {},
    });
    const last = await (await scrape()).text();
    expect(sum(last, 'switchboard_tool_calls_total', { tool: 'unknown', outcome: 'tool_not_found' })).toBe(1);

    const ids = await stack.db.db.selectFrom('connected_accounts').select(['id', 'connection_id']).execute();
    const instanceSecret = new URL(instanceUrl).pathname.split('/')[3] as string;
    const labelValues = last
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .flatMap((line) => [...line.matchAll(/="([^"]*)"/g)].map((match) => match[1] as string));
    expect(labelValues.length).toBeGreaterThan(20);
    for (const value of labelValues) {
      expect(value).not.toMatch(/^(ca|conn|inst|cfg|exec|tcl|evt)_/);
      expect(value).not.toMatch(/@|john-doe|made_up/);
      expect(value).not.toContain(instanceSecret);
      for (const row of ids) expect([row.id, row.connection_id]).not.toContain(value);
    }
  });

  it('counts the cold instance lookups and the digests they carried', async () => {
    const lookup = { lookup: 'mcp_instances' };
    const before = await (await scrape()).text();
    // The instance forgotten, its config still cached: the call reads the user's own rows.
    stack.services.changes.allCaches.find((cache) => cache.name === 'mcp_instances')?.clear();
    expect((await readRpc(await rawPost(stack, instanceUrl, callFetchMails))).result).toBeDefined();
    const after = await (await scrape()).text();
    expect(sum(after, 'switchboard_batched_lookup_queries_total', lookup)).toBe(
      sum(before, 'switchboard_batched_lookup_queries_total', lookup) + 1,
    );
    expect(sum(after, 'switchboard_batched_lookup_keys_total', lookup)).toBe(
      sum(before, 'switchboard_batched_lookup_keys_total', lookup) + 1,
    );
  });

  it('counts the cold account lookups of REST calls apart', async () => {
    const lookup = { lookup: 'connected_accounts' };
    const before = await (await scrape()).text();
    stack.services.changes.forget(['accounts']);
    const called = await stack.api<{ data?: unknown }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: { max_results: 1 },
    });
    expect(called.status).toBe(200);
    const after = await (await scrape()).text();
    expect(sum(after, 'switchboard_batched_lookup_queries_total', lookup)).toBe(
      sum(before, 'switchboard_batched_lookup_queries_total', lookup) + 1,
    );
    expect(sum(after, 'switchboard_batched_lookup_keys_total', lookup)).toBe(
      sum(before, 'switchboard_batched_lookup_keys_total', lookup) + 1,
    );
    expect(sum(after, 'switchboard_batched_lookup_queries_total', { lookup: 'connected_accounts_by_id' })).toBe(
      sum(before, 'switchboard_batched_lookup_queries_total', { lookup: 'connected_accounts_by_id' }),
    );
  });

  it('traces one MCP tools/call under the incoming traceparent: request, tool call, database, provider', async () => {
    exporter.reset();
    providerHeaders.length = 0;
    // Cold caches, so the call reads its instance, config and account from the database.
    for (const cache of stack.services.changes.allCaches) cache.clear();
    const response = await rawPost(stack, instanceUrl, callFetchMails, {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
    });
    expect((await readRpc(response)).result).toBeDefined();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const tree = (parent: string, depth: number): string[] =>
      spans
        .filter((span) => parentOf(span) === parent)
        .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
        .flatMap((span) => [`${'  '.repeat(depth)}${span.name}`, ...tree(span.spanContext().spanId, depth + 1)]);
    const lines = tree(PARENT_SPAN_ID, 0);
    console.log(`span tree of one MCP tools/call:\n${lines.join('\n')}`);

    const root = spans.find((span) => parentOf(span) === PARENT_SPAN_ID);
    expect(root?.name).toBe('POST /mcp/i/:secret');
    expect(root?.attributes['http.route']).toBe('/mcp/i/:secret');
    const toolCall = spans.find((span) => span.name === 'tool.call');
    expect(toolCall?.attributes['switchboard.tool']).toBe('gmail_fetch_mails');
    expect(byId.get(parentOf(toolCall as ReadableSpan) as string)).toBe(root);
    const providerSpans = spans.filter(
      (span) => span.attributes['switchboard.provider'] === 'gmail' && span.name === 'GET',
    );
    expect(providerSpans.length).toBeGreaterThan(0);
    for (const span of providerSpans) expect(parentOf(span)).toBe(toolCall?.spanContext().spanId);
    expect(spans.some((span) => span.name.startsWith('db '))).toBe(true);
    // The cold instance lookup (a join, so no one table named) has its span in this trace:
    // traced, it is compiled per call, as a span opens when a statement is compiled.
    expect(spans.map((span) => span.name)).toContain('db SELECT');

    // The provider got the trace: its request's parent is the provider span.
    const sent = providerHeaders.map((headers) => headers.get('traceparent')).filter(Boolean);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent[0]).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(providerSpans.map((span) => span.spanContext().spanId)).toContain((sent[0] as string).split('-')[2]);

    // No secret, token or identifier anywhere in names or attributes.
    const instanceSecret = new URL(instanceUrl).pathname.split('/')[3] as string;
    const everything = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes })));
    expect(everything).not.toContain(instanceSecret);
    expect(everything).not.toMatch(/john|ca_|Bearer/);
  });

  it('passes the caller’s traceparent on to the provider, but never its baggage', async () => {
    providerHeaders.length = 0;
    const response = await rawPost(stack, instanceUrl, callFetchMails, {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      baggage: 'tenant=acme-corp,session=sess-7f3a9c',
    });
    expect((await readRpc(response)).result).toBeDefined();
    const toGmail = providerHeaders.filter((headers) => headers.get('traceparent'));
    expect(toGmail.length).toBeGreaterThan(0);
    for (const headers of toGmail) {
      expect(headers.get('traceparent')).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      expect(headers.get('baggage')).toBeNull();
    }
    expect(JSON.stringify(providerHeaders.map((headers) => [...headers]))).not.toMatch(/acme-corp|sess-7f3a9c/);
  });

  it('writes one access log line per request with the route pattern, never the capability secret', async () => {
    logs.lines.length = 0;
    await rawPost(stack, instanceUrl, callFetchMails);
    const instanceSecret = new URL(instanceUrl).pathname.split('/')[3] as string;
    const access = logs.lines.filter((line) => line.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ level: 30, method: 'POST', route: '/mcp/i/:secret', status: 200 });
    expect(access[0]?.requestId).toEqual(expect.any(String));
    expect(access[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof access[0]?.ms).toBe('number');
    expect(JSON.stringify(logs.lines)).not.toContain(instanceSecret);

    logs.lines.length = 0;
    await stack.fetch(`${stack.url}/no/such/${instanceSecret}`);
    expect(logs.lines.find((line) => line.msg === 'request')).toMatchObject({ route: 'unmatched', status: 404 });
    expect(JSON.stringify(logs.lines)).not.toContain(instanceSecret);
  });

  it('is ready while the database answers and is current, and says what is not', async () => {
    const ready = await stack.fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', migrations: 'current', encryption_key: 'loaded' },
    });
    expect((await stack.fetch(`${stack.url}/healthz`)).status).toBe(200);

    // A migration this build has and the database has not run: not ready.
    const latest = await stack.db.db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .orderBy('name' as never, 'desc')
      .executeTakeFirstOrThrow();
    const name = (latest as { name: string }).name;
    await stack.db.db
      .deleteFrom('kysely_migration' as never)
      .where('name' as never, '=', name as never)
      .execute();
    try {
      const pending = await stack.fetch(`${stack.url}/readyz`);
      expect(pending.status).toBe(503);
      expect(await pending.json()).toMatchObject({ status: 'unavailable', checks: { migrations: 'pending' } });
    } finally {
      await stack.db.db
        .insertInto('kysely_migration' as never)
        .values({ name, timestamp: new Date().toISOString() } as never)
        .execute();
    }
  });
});

describe('/readyz without a database', () => {
  it('answers 503 with database unreachable', async () => {
    const stack = await startStack();
    try {
      await stack.db.close();
      const answer = await stack.fetch(`${stack.url}/readyz`);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ status: 'unavailable', checks: { database: 'unreachable' } });
    } finally {
      await stack.close().catch(() => undefined);
    }
  });

  it('does not serve /metrics when neither a token nor a port is configured', async () => {
    const stack = await startStack();
    try {
      expect((await stack.fetch(`${stack.url}/metrics`)).status).toBe(404);
    } finally {
      await stack.close();
    }
  });
});
