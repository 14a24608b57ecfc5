import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { scalekitTools } from '@switchboard/server';
import { Pool } from 'undici';
import { BenchStack, type Engine } from './environment.js';
import { cpuMs } from './proc.js';

const CONNECTOR = 'MY_GMAIL';
const IDENTIFIER = 'user-0';
const TOOL = 'gmail_fetch_mails';
const PARAMS = { max_results: 1 };
export const WARM_UP_S = 2;

/** Which face of ExecuteTool a run called. */
export type Face = 'gRPC' | 'REST';

export interface FaceResult {
  face: Face;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Switchboard CPU ms per call, its own process only. */
  cpuPerCall: number;
  /** Transport errors, non-OK statuses and answers without an execution id. */
  failures: number;
  rounds: number;
}

export interface GrpcResult {
  engine: Engine;
  concurrency: number;
  grpc: FaceResult;
  rest: FaceResult;
}

/** One call of a face: resolves true when the answer was a success with an execution id. */
type Call = () => Promise<boolean>;

interface Round {
  latencies: number[];
  failures: number;
  elapsedS: number;
  cpuMs: number;
}

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
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return {
    latencies,
    failures,
    elapsedS: (performance.now() - started) / 1000,
    cpuMs: cpuMs(pid) - cpuBefore,
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
  return {
    face,
    requests: latencies.length,
    rps: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuPerCall: cpu / Math.max(1, latencies.length),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    rounds: rounds.length,
  };
}

/**
 * ExecuteTool of gmail_fetch_mails {max_results: 1} for one connected account, over gRPC
 * (connect-node, h2c, one HTTP/2 session as the official Node SDK keeps) and over REST
 * (POST /api/v1/execute_tool on an undici Pool of `concurrency` keep-alive connections),
 * same server, same load loop, rounds alternating so drift on the shared cores hits both alike.
 */
export async function grpcVsRest(
  engine: Engine,
  options: { durationS: number; rounds: number; concurrency: number; nodeArgs?: string[] },
): Promise<GrpcResult> {
  const stack = await BenchStack.start(engine, { nodeArgs: options.nodeArgs });
  const rest = new Pool(stack.server.url, { connections: options.concurrency, pipelining: 1 });
  const session = new Http2SessionManager(stack.server.url);
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

    const faces: [Face, Call][] = [
      ['gRPC', grpcCall],
      ['REST', restCall],
    ];
    const pid = stack.server.pid;
    authorization = `Bearer ${await admin.accessToken()}`;
    for (const [face, call] of faces) {
      const warm = await closedLoops(call, options.concurrency, WARM_UP_S, pid);
      if (warm.failures === warm.latencies.length)
        throw new Error(`every ${face} ExecuteTool call failed during the warm-up`);
    }
    const rounds = new Map<Face, Round[]>(faces.map(([face]) => [face, []]));
    for (let round = 0; round < options.rounds; round++) {
      // Every other round starts with REST, so neither face always follows the other.
      const order = round % 2 === 0 ? faces : [...faces].reverse();
      for (const [face, call] of order) {
        authorization = `Bearer ${await admin.accessToken()}`;
        rounds.get(face)?.push(await closedLoops(call, options.concurrency, options.durationS, pid));
      }
    }
    return {
      engine,
      concurrency: options.concurrency,
      grpc: merge('gRPC', rounds.get('gRPC') ?? []),
      rest: merge('REST', rounds.get('REST') ?? []),
    };
  } finally {
    session.abort();
    await rest.close();
    await stack.stop();
  }
}
