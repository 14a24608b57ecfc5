import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { scalekitTools } from '@switchboard/server';
import { Pool } from 'undici';
import { BenchStack, type Engine } from './environment.js';
import { RawGrpcClient } from './grpc-client.js';
import { cpuMs } from './proc.js';

const CONNECTOR = 'MY_GMAIL';
const IDENTIFIER = 'user-0';
const TOOL = 'gmail_fetch_mails';
const PARAMS = { max_results: 1 };
export const WARM_UP_S = 2;

/** Which face of ExecuteTool a run called, and through which client. */
export type Face = 'gRPC, connect-node client' | 'gRPC, node:http2 client' | 'REST';

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
  options: { durationS: number; rounds: number; concurrency: number; nodeArgs?: string[] },
): Promise<GrpcResult> {
  const stack = await BenchStack.start(engine, { nodeArgs: options.nodeArgs });
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

    const faces: [Face, Call][] = [
      ['gRPC, connect-node client', grpcCall],
      ['gRPC, node:http2 client', rawCall],
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
      // Each round starts with the next face, so no face always follows the same one.
      const order = [...faces.slice(round % faces.length), ...faces.slice(0, round % faces.length)];
      for (const [face, call] of order) {
        authorization = `Bearer ${await admin.accessToken()}`;
        rounds.get(face)?.push(await closedLoops(call, options.concurrency, options.durationS, pid));
      }
    }
    return {
      engine,
      concurrency: options.concurrency,
      grpc: merge('gRPC, connect-node client', rounds.get('gRPC, connect-node client') ?? []),
      grpcRaw: merge('gRPC, node:http2 client', rounds.get('gRPC, node:http2 client') ?? []),
      rest: merge('REST', rounds.get('REST') ?? []),
    };
  } finally {
    session.abort();
    raw.close();
    await rest.close();
    await stack.stop();
  }
}
