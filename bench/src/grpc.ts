import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { scalekitTools } from '@switchboard/server';
import { Pool } from 'undici';
import { BENCH_METRICS_TOKEN, BenchStack, type Engine } from './environment.js';
import { grpcFrame, RawGrpcClient } from './grpc-client.js';
import { h2load } from './h2load.js';
import { WARM_UP_CALLS } from './load.js';
import { cpuMs } from './proc.js';

const CONNECTOR = 'MY_GMAIL';
const IDENTIFIER = 'user-0';
const TOOL = 'gmail_fetch_mails';
const PARAMS = { max_results: 1 };
export const WARM_UP_S = 2;

/** Which face of ExecuteTool a run called, and through which client. */
export type Face =
  | 'gRPC, connect-node client'
  | 'gRPC, node:http2 client'
  | 'REST, undici client'
  | 'gRPC, h2load'
  | 'REST, h2load';

export interface FaceResult {
  face: Face;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Switchboard CPU ms per call, its own process only. */
  cpuPerCall: number;
  /** The load generator's CPU ms per call (this process: the client and the load loop). */
  clientCpuPerCall: number;
  /** Transport errors, non-OK statuses and answers without an execution id. */
  failures: number;
  rounds: number;
}

export interface GrpcResult {
  engine: Engine;
  concurrency: number;
  /** Through connect-node's client, as the official Node SDK calls. */
  grpc: FaceResult;
  /** Through a unary client on node:http2 alone: the server's share without the client's. */
  grpcRaw: FaceResult;
  rest: FaceResult;
  /** Both faces driven by one load generator in C, h2load; absent where it is not installed. */
  h2load?: { grpc: FaceResult; rest: FaceResult };
}

/** One call of a face: resolves true when the answer was a success with an execution id. */
type Call = () => Promise<boolean>;

interface Round {
  latencies: number[];
  failures: number;
  elapsedS: number;
  cpuMs: number;
  clientCpuMs: number;
}

/** One face's timed round: `durationS` of calls at the section's concurrency. */
type Runner = (durationS: number) => Promise<Round>;

/** `concurrency` closed loops calling `call` back to back until the deadline; latencies in ms. */
async function closedLoops(call: Call, concurrency: number, durationS: number, pid: number): Promise<Round> {
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + durationS * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const ok = await call().catch(() => false);
      latencies.push(performance.now() - started);
      if (!ok) failures++;
    }
  };
  const cpuBefore = cpuMs(pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const client = process.cpuUsage(clientBefore);
  return {
    latencies,
    failures,
    elapsedS: (performance.now() - started) / 1000,
    cpuMs: cpuMs(pid) - cpuBefore,
    clientCpuMs: (client.user + client.system) / 1000,
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Rounds of one face merged: requests over total time, percentiles over every sample. */
function merge(face: Face, rounds: Round[]): FaceResult {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsedS = rounds.reduce((n, r) => n + r.elapsedS, 0);
  const cpu = rounds.reduce((n, r) => n + r.cpuMs, 0);
  const clientCpu = rounds.reduce((n, r) => n + r.clientCpuMs, 0);
  return {
    face,
    requests: latencies.length,
    rps: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuPerCall: cpu / Math.max(1, latencies.length),
    clientCpuPerCall: clientCpu / Math.max(1, latencies.length),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    rounds: rounds.length,
  };
}

/**
 * ExecuteTool of gmail_fetch_mails {max_results: 1} for one connected account, over gRPC
 * (h2c, one HTTP/2 session as the official Node SDK keeps), through connect-node's client and
 * through a bare node:http2 one, and over REST (POST /api/v1/execute_tool on an undici Pool of
 * `concurrency` keep-alive connections), same server, same load loop, rounds rotating so
 * drift on the shared cores hits every face alike.
 */
export async function grpcVsRest(
  engine: Engine,
  options: { durationS: number; rounds: number; concurrency: number; nodeArgs?: string[]; h2load?: boolean },
): Promise<GrpcResult> {
  const stack = await BenchStack.start(engine, {
    nodeArgs: options.nodeArgs,
    env: { SWITCHBOARD_METRICS_TOKEN: BENCH_METRICS_TOKEN },
  });
  const rest = new Pool(stack.server.url, { connections: options.concurrency, pipelining: 1 });
  const session = new Http2SessionManager(stack.server.url);
  const raw = new RawGrpcClient(stack.server.url);
  try {
    const { admin } = stack;
    await admin.createConnection(CONNECTOR, 'gmail');
    await admin.createConfig('bench', [{ connection_name: CONNECTOR, tools: [TOOL] }]);
    await stack.connectedUsers('bench', 'user', 1);

    // The token is fetched before each round (Admin caches it until a minute before expiry),
    // so both faces send a ready-made header, as an SDK does between refreshes.
    let authorization = '';
    const client = createClient(
      scalekitTools.ToolService,
      // connect-node 2.x's gRPC transport is HTTP/2 only (no httpVersion option); a http:// base URL is h2c.
      createGrpcTransport({
        baseUrl: stack.server.url,
        sessionManager: session,
        interceptors: [
          (next) => (req) => {
            req.header.set('authorization', authorization);
            return next(req);
          },
        ],
      }),
    );
    const grpcCall: Call = async () => {
      const answer = await client.executeTool({
        toolName: TOOL,
        connector: CONNECTOR,
        identifier: IDENTIFIER,
        params: PARAMS,
      });
      return answer.executionId !== '' && answer.data !== undefined;
    };
    const executeTool = scalekitTools.ToolService.method.executeTool;
    const rawRequest = toBinary(
      executeTool.input,
      create(executeTool.input, { toolName: TOOL, connector: CONNECTOR, identifier: IDENTIFIER, params: PARAMS }),
    );
    const rawPath = `/${scalekitTools.ToolService.typeName}/${executeTool.name}`;
    const rawCall: Call = async () => {
      const answer = await raw.call(rawPath, rawRequest, { authorization });
      if (answer.status !== 0 || !answer.reply) return false;
      const reply = fromBinary(executeTool.output, answer.reply);
      return reply.executionId !== '' && reply.data !== undefined;
    };
    const restBody = JSON.stringify({ tool_name: TOOL, connector: CONNECTOR, identifier: IDENTIFIER, params: PARAMS });
    const restCall: Call = async () => {
      const answer = await rest.request({
        method: 'POST',
        path: '/api/v1/execute_tool',
        headers: { authorization, 'content-type': 'application/json' },
        body: restBody,
      });
      const text = await answer.body.text();
      return answer.statusCode === 200 && text.includes('"execution_id":"');
    };

    const pid = stack.server.pid;
    const loops =
      (call: Call): Runner =>
      (durationS) =>
        closedLoops(call, options.concurrency, durationS, pid);
    const faces: [Face, Runner][] = [
      ['gRPC, connect-node client', loops(grpcCall)],
      ['gRPC, node:http2 client', loops(rawCall)],
      ['REST, undici client', loops(restCall)],
    ];
    if (options.h2load) {
      const url = stack.server.url;
      const grpcBody = grpcFrame(rawRequest);
      faces.push(
        [
          'gRPC, h2load',
          h2loadFace(
            () => ({
              url: `${url}${rawPath}`,
              protocol: 'h2',
              concurrency: options.concurrency,
              headers: { 'content-type': 'application/grpc+proto', te: 'trailers', authorization },
              body: grpcBody,
            }),
            pid,
            () => successesCounted(url, 'GRPC'),
          ),
        ],
        [
          'REST, h2load',
          h2loadFace(
            () => ({
              url: `${url}/api/v1/execute_tool`,
              protocol: 'h1',
              concurrency: options.concurrency,
              headers: { 'content-type': 'application/json', authorization },
              body: restBody,
            }),
            pid,
            () => successesCounted(url, 'API'),
          ),
        ],
      );
    }
    authorization = `Bearer ${await admin.accessToken()}`;
    for (const [face, run] of faces) {
      // Runs of WARM_UP_S until the face has made WARM_UP_CALLS calls (its code optimized).
      for (let calls = 0; calls < WARM_UP_CALLS; ) {
        const warm = await run(WARM_UP_S);
        if (warm.failures === warm.latencies.length)
          throw new Error(`every ${face} ExecuteTool call failed during the warm-up`);
        calls += warm.latencies.length;
      }
    }
    const rounds = new Map<Face, Round[]>(faces.map(([face]) => [face, []]));
    for (let round = 0; round < options.rounds; round++) {
      // Each round starts with the next face, so no face always follows the same one.
      const order = [...faces.slice(round % faces.length), ...faces.slice(0, round % faces.length)];
      for (const [face, run] of order) {
        authorization = `Bearer ${await admin.accessToken()}`;
        rounds.get(face)?.push(await run(options.durationS));
      }
    }
    const merged = (face: Face) => merge(face, rounds.get(face) ?? []);
    return {
      engine,
      concurrency: options.concurrency,
      grpc: merged('gRPC, connect-node client'),
      grpcRaw: merged('gRPC, node:http2 client'),
      rest: merged('REST, undici client'),
      h2load: options.h2load ? { grpc: merged('gRPC, h2load'), rest: merged('REST, h2load') } : undefined,
    };
  } finally {
    session.abort();
    raw.close();
    await rest.close();
    await stack.stop();
  }
}

/** How many ExecuteTool calls from one face Switchboard has counted as successes so far. */
async function successesCounted(url: string, source: 'GRPC' | 'API'): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  let successes = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^switchboard_tool_calls_total\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1]?.includes(`source="${source}"`) && match[1].includes('outcome="success"'))
      successes += Number(match[2]);
  }
  return successes;
}

/**
 * A face driven by h2load. It sees only HTTP statuses, and a gRPC error is a 200 with a
 * grpc-status trailer, so Switchboard's own count says how the calls ended: every answer that
 * was not a 200, and every 200 beyond the successes the server counted meanwhile, is a failure.
 * The first run (the warm-up) is timed and measures the rate; each later one asks for the rate
 * of the run before it times its duration and waits for every answer, as the closed loops do,
 * rather than hang up on the calls in flight at a deadline (the server would count those as
 * failed, and a late success among them would hide a failure).
 */
function h2loadFace(
  request: () => Parameters<typeof h2load>[0],
  pid: number,
  successes: () => Promise<number>,
): Runner {
  let rate: number | undefined;
  return async (durationS) => {
    const before = await successes();
    const cpuBefore = cpuMs(pid);
    const run = await h2load(
      request(),
      rate === undefined ? { durationS } : { requests: Math.max(100, Math.round(rate * durationS)) },
    );
    const cpu = cpuMs(pid) - cpuBefore;
    const succeeded = (await successes()) - before;
    const answered = run.latencies.length;
    rate = answered / run.elapsedS;
    return {
      latencies: run.latencies,
      failures: Math.max(run.not200, answered - succeeded),
      elapsedS: run.elapsedS,
      cpuMs: cpu,
      clientCpuMs: run.clientCpuMs,
    };
  };
}
