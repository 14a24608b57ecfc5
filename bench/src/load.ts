import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { sleep } from './proc.js';

/** The stateless 2026-07-28 revision: version in the header and in every request's envelope. */
export const PROTOCOL_VERSION = '2026-07-28';

export function rpcBody(method: 'tools/list' | 'tools/call', params: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': PROTOCOL_VERSION,
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
}

export function rpcHeaders(method: string, name?: string): Record<string, string> {
  return {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': PROTOCOL_VERSION,
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  };
}

export const FETCH_MAILS_BODY = rpcBody('tools/call', { name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
export const FETCH_MAILS_HEADERS = rpcHeaders('tools/call', 'gmail_fetch_mails');

/**
 * The 2025-06-18 revision as today's clients send it once initialized (LangChain's adapters,
 * Inspector, Claude Desktop, the v1 SDK): a plain JSON-RPC body, the version header, and an
 * answer as an SSE stream.
 */
export const LEGACY_PROTOCOL_VERSION = '2025-06-18';

export interface Era {
  name: string;
  body: string;
  headers: Record<string, string>;
}

/** tools/call gmail_fetch_mails {max_results: 1} in each protocol era the overhead section measures. */
export const FETCH_MAILS_ERAS: Era[] = [
  {
    name: LEGACY_PROTOCOL_VERSION,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'gmail_fetch_mails', arguments: { max_results: 1 } },
    }),
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': LEGACY_PROTOCOL_VERSION,
    },
  },
  { name: PROTOCOL_VERSION, body: FETCH_MAILS_BODY, headers: FETCH_MAILS_HEADERS },
];
export const LIST_TOOLS_BODY = rpcBody('tools/list');
export const LIST_TOOLS_HEADERS = rpcHeaders('tools/list');

export interface LoadResult {
  label: string;
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Transport errors, timeouts, non-2xx answers and JSON-RPC or tool errors. */
  failures: number;
  durationS: number;
  /** An open loop's own lateness: p99 of how long after its scheduled time a request left (ms). */
  lateP99?: number;
  /** An open loop's latencies, sorted (ms): rounds pooled give a steadier tail than a median of their p99s. */
  latencies?: number[];
}

/** Counts a JSON-RPC answer as failed when it is an error or a tool result with isError. */
export function isFailedAnswer(status: number, body: string): boolean {
  if (status < 200 || status >= 300) return true;
  return body.includes('"isError":true') || /"error":\{"code":-?\d/.test(body);
}

/**
 * Calls a warm-up makes before anything is measured. V8 optimizes a function only after it
 * has run many times, so a server's first few thousand calls run unoptimized code: on a slow
 * day, back-to-back 3 s runs of 10 users right after start answered 338, then 515, then
 * 1,199 calls/s. A warm-up of 2 s was enough where it made ~5,000 calls and not where it
 * made ~800; a count warms every machine alike.
 */
export const WARM_UP_CALLS = 5_000;

export interface CannonOptions {
  label: string;
  /** Full URLs; each request takes the next one (all must share one origin). */
  urls: string[];
  body: string;
  /** A body per request instead of `body`, taken in turn with `urls` (one per user of a REST pass). */
  bodies?: string[];
  headers: Record<string, string>;
  method?: 'POST';
  connections: number;
  durationS: number;
  /** Stop after this many requests instead of after durationS (e.g. one pass over `urls`). */
  amount?: number;
  /** Every answer must be a 2xx whose Content-Length is exactly this (instead of the body scan). */
  expectBytes?: number;
  /** Checks every answer's body for errors (costs a little load-generator CPU). */
  checkBodies?: boolean;
  /** Every answer must be a 2xx whose body holds this text (e.g. a REST answer's execution id). */
  expectText?: string;
  /** Seconds an answer may take before it counts as failed (autocannon's default: 10). */
  timeoutS?: number;
}

function contentLength(headers: Record<string, unknown> | undefined): number | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'content-length') return Number(value);
  }
  return undefined;
}

/** One autocannon run; latencies in ms. */
export async function cannon(options: CannonOptions): Promise<LoadResult> {
  const first = new URL(options.urls[0] ?? '');
  const paths = options.urls.map((u) => {
    const url = new URL(u);
    return `${url.pathname}${url.search}`;
  });
  let next = 0;
  let bad = 0;
  const started = performance.now();
  // With `amount`, autocannon resolves only at its next whole-second sample tick, up to a
  // second after the last answer: a pass is timed to its last answer instead.
  let lastAnswer = started;
  const { bodies, expectText } = options;
  const check =
    expectText !== undefined
      ? (status: number, body: string) => status < 200 || status >= 300 || !body.includes(expectText)
      : options.expectBytes !== undefined
        ? (status: number, _body: string, headers?: Record<string, unknown>) =>
            status < 200 || status >= 300 || contentLength(headers) !== options.expectBytes
        : options.checkBodies !== false
          ? (status: number, body: string) => isFailedAnswer(status, body)
          : undefined;
  const result = await autocannon({
    url: first.origin,
    connections: options.connections,
    ...(options.timeoutS ? { timeout: options.timeoutS } : {}),
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS }),
    requests: [
      {
        method: options.method ?? 'POST',
        body: options.body,
        headers: options.headers,
        setupRequest: (req) => {
          if (bodies) req.body = bodies[next % bodies.length];
          req.path = paths[next++ % paths.length];
          return req;
        },
        ...(check || options.amount
          ? {
              onResponse: (status: number, body: string, _context: object, headers?: Record<string, unknown>) => {
                lastAnswer = performance.now();
                if (check?.(status, body, headers)) bad++;
              },
            }
          : {}),
      },
    ],
  });
  const answered = result.requests.total;
  const durationS = options.amount ? (lastAnswer - started) / 1000 : options.durationS;
  return {
    label: options.label,
    connections: options.connections,
    requests: answered,
    rps: answered / durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + Math.max(bad, result.non2xx),
    durationS,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * A closed-loop load spread round-robin per request over several base URLs (replicas behind
 * a load balancer), with keep-alive connections; every answer's body is checked.
 */
export async function roundRobin(options: {
  label: string;
  /** Per request: the URL to call, chosen by the request's sequence number. */
  urlFor: (sequence: number) => string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  onFailure?: (status: number, body: string) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections * 4 });
  const latencies: number[] = [];
  let failures = 0;
  let sequence = 0;
  const deadline = performance.now() + options.durationS * 1000;
  const one = (url: string) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(url, { method: 'POST', agent, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          latencies.push(performance.now() - started);
          const body = Buffer.concat(chunks).toString();
          if (isFailedAnswer(res.statusCode ?? 0, body)) {
            failures++;
            options.onFailure?.(res.statusCode ?? 0, body);
          }
          resolve();
        });
      });
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(options.body);
    });
  const worker = async () => {
    while (performance.now() < deadline) await one(options.urlFor(sequence++));
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  return measured(options, latencies, failures, elapsedS);
}

/** A run's result from its latencies (ms, sorted here), failures and length. */
function measured(
  run: { label: string; connections: number },
  latencies: number[],
  failures: number,
  elapsedS: number,
): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    label: run.label,
    connections: run.connections,
    requests: latencies.length,
    rps: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
    durationS: elapsedS,
  };
}

/**
 * An open-loop load: requests leave on a fixed schedule, `rate` a second whatever the answers
 * do, over `connections` keep-alive connections (a request that finds them all busy waits in
 * the pool's queue). A latency runs from the request's scheduled time, so waiting behind a
 * slow answer counts too (no coordinated omission). autocannon's own rate limit cannot stand
 * in: it lets each connection send its quota as fast as it can at the start of every second,
 * then idles, which queues as a closed loop does.
 *
 * Why: a closed loop of 10 keeps a one-core server saturated, so its latency is 10 over its
 * rate and a server with 10% less throughput shows ~10% more p99 for that alone. At one
 * offered rate below both servers' capacity, p99 is the wait calls meet behind pauses (GC,
 * flushes, a busy event loop) and how fast each server works off the backlog.
 */
export async function paced(options: {
  label: string;
  /** Full URLs of one origin; each request takes the next one. */
  urls: string[];
  body: string;
  headers: Record<string, string>;
  connections: number;
  /** Requests per second. */
  rate: number;
  durationS: number;
}): Promise<LoadResult> {
  const origin = new URL(options.urls[0] ?? '').origin;
  const paths = options.urls.map((u) => {
    const url = new URL(u);
    return `${url.pathname}${url.search}`;
  });
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1 });
  const latencies: number[] = [];
  const late: number[] = [];
  let failures = 0;
  const one = async (scheduled: number, sequence: number) => {
    late.push(performance.now() - scheduled);
    try {
      const answer = await pool.request({
        path: paths[sequence % paths.length] ?? '/',
        method: 'POST',
        headers: options.headers,
        body: options.body,
      });
      const text = await answer.body.text();
      latencies.push(performance.now() - scheduled);
      if (isFailedAnswer(answer.statusCode, text)) failures++;
    } catch {
      failures++;
    }
  };
  const interval = 1000 / options.rate;
  const total = Math.max(1, Math.round(options.rate * options.durationS));
  const started = performance.now();
  const calls: Promise<void>[] = [];
  while (calls.length < total) {
    const now = performance.now();
    // Every request whose time has come leaves now; timers wake about once a millisecond.
    while (calls.length < total && started + calls.length * interval <= now) {
      calls.push(one(started + calls.length * interval, calls.length));
    }
    if (calls.length < total) await sleep(1);
  }
  await Promise.all(calls);
  const elapsedS = (performance.now() - started) / 1000;
  await pool.close();
  late.sort((a, b) => a - b);
  return { ...measured(options, latencies, failures, elapsedS), lateP99: percentile(late, 99), latencies };
}
