import { BenchStack, type Engine, wideMappings } from './environment.js';
import {
  cannon,
  FETCH_MAILS_BODY,
  FETCH_MAILS_HEADERS,
  LIST_TOOLS_BODY,
  LIST_TOOLS_HEADERS,
  type LoadResult,
} from './load.js';
import { cpuMs, rssMb } from './proc.js';
import { issueSandboxToken, startBareServer } from './stack.js';

const ROUNDS = 2;

/** One tools/list answer, checked to list `count` distinct tools; its body is returned. */
async function verifiedToolsList(url: string, count: number): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: LIST_TOOLS_HEADERS, body: LIST_TOOLS_BODY });
  const body = await response.text();
  const tools = (JSON.parse(body) as { result?: { tools?: { name: string }[] } }).result?.tools ?? [];
  if (response.status !== 200 || new Set(tools.map((t) => t.name)).size !== count)
    throw new Error(`tools/list answered ${response.status} with ${tools.length} tools, expected ${count}`);
  return body;
}

/** Rounds of one run merged: requests summed, latencies averaged. */
function combine(rounds: LoadResult[]): LoadResult {
  const first = rounds[0];
  if (!first) throw new Error('no rounds');
  const mean = (pick: (r: LoadResult) => number) => rounds.reduce((n, r) => n + pick(r), 0) / rounds.length;
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const durationS = rounds.reduce((n, r) => n + r.durationS, 0);
  return {
    ...first,
    requests,
    durationS,
    rps: requests / durationS,
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
  };
}

export interface OverheadPoint {
  connections: number;
  /** The bare server calling the sandbox with fetch(). */
  bare: LoadResult;
  /** The bare server calling the sandbox with undici's request API, as Switchboard does. */
  bareUndici: LoadResult;
  switchboard: LoadResult;
  /** Switchboard CPU ms per tools/call at this concurrency (its own process only). */
  cpuPerCall: number;
  bareCpuPerCall: number;
  bareUndiciCpuPerCall: number;
}

export interface OverheadResult {
  engine: Engine;
  points: OverheadPoint[];
  toolsList: LoadResult;
  toolsListCount: number;
  rssAfterMb: number;
  /** The stack stays up when the caller wants to soak it; the caller stops it. */
  stack: BenchStack;
  instanceUrls: string[];
}

/**
 * tools/call of gmail_fetch_mails {max_results: 1} through a Switchboard instance URL
 * against the bare SDK server, same sandbox, same concurrency, runs interleaved so drift
 * hits both alike; then tools/list of a 25-connection config.
 */
export async function overhead(
  engine: Engine,
  options: { durationS: number; concurrency: number[]; nodeArgs?: string[]; users: number },
): Promise<OverheadResult> {
  const stack = await BenchStack.start(engine, { nodeArgs: options.nodeArgs });
  const { admin } = stack;
  await admin.createConnection('MY_GMAIL', 'gmail');
  await admin.createConfig('bench', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
  const instances = await stack.connectedUsers('bench', 'user', options.users);
  const urls = instances.map((i) => i.url.replace(/^http:\/\/[^/]+/, stack.server.url));
  const token = await issueSandboxToken(stack.sandbox.url);
  const bare = await startBareServer(stack.sandbox.url, token, 'fetch');
  const bareUndici = await startBareServer(stack.sandbox.url, token, 'undici');
  try {
    const targets = [
      { urls: [bare.url], pid: bare.pid },
      { urls: [bareUndici.url], pid: bareUndici.pid },
      { urls, pid: stack.server.pid },
    ];
    const warm = { body: FETCH_MAILS_BODY, headers: FETCH_MAILS_HEADERS, connections: 10, durationS: 2 };
    for (const target of targets) await cannon({ ...warm, label: 'warm-up', urls: target.urls });

    const points: OverheadPoint[] = [];
    for (const connections of options.concurrency) {
      const run = { body: FETCH_MAILS_BODY, headers: FETCH_MAILS_HEADERS, connections, durationS: options.durationS };
      // Alternating rounds, so a noisy neighbour on the shared cores hits all three alike.
      const rounds = targets.map(() => [] as LoadResult[]);
      const cpu = targets.map(() => 0);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [index, target] of targets.entries()) {
          const start = cpuMs(target.pid);
          rounds[index]?.push(await cannon({ ...run, label: 'tools/call', urls: target.urls }));
          cpu[index] = (cpu[index] ?? 0) + cpuMs(target.pid) - start;
        }
      }
      const [bareResult, bareUndiciResult, switchboard] = rounds.map(combine) as [LoadResult, LoadResult, LoadResult];
      const perCall = (index: number, result: LoadResult) => (cpu[index] ?? 0) / Math.max(1, result.requests);
      points.push({
        connections,
        bare: bareResult,
        bareUndici: bareUndiciResult,
        switchboard,
        cpuPerCall: perCall(2, switchboard),
        bareCpuPerCall: perCall(0, bareResult),
        bareUndiciCpuPerCall: perCall(1, bareUndiciResult),
      });
    }

    const wide = wideMappings(25);
    for (const mapping of wide) await admin.createConnection(mapping.name, mapping.provider);
    await admin.createConfig(
      'wide',
      wide.map((m) => ({ connection_name: m.name, tools: m.tools })),
    );
    const wideInstance = await admin.ensureInstance('wide', 'user-0');
    const wideUrl = wideInstance.url.replace(/^http:\/\/[^/]+/, stack.server.url);
    const toolsListCount = wide.reduce((n, m) => n + m.tools.length, 0);
    // One answer checked in full (every tool listed), then every answer of the run must be a
    // 200 of its exact size: scanning each 100 KB body again cost the load generator a third of its CPU.
    const reference = await verifiedToolsList(wideUrl, toolsListCount);
    const list = {
      label: 'tools/list',
      urls: [wideUrl],
      body: LIST_TOOLS_BODY,
      headers: LIST_TOOLS_HEADERS,
      connections: 10,
      expectBytes: Buffer.byteLength(reference),
    };
    await cannon({ ...list, durationS: 2 });
    const toolsList = await cannon({ ...list, durationS: options.durationS });
    return {
      engine,
      points,
      toolsList,
      toolsListCount,
      rssAfterMb: rssMb(stack.server.pid),
      stack,
      instanceUrls: urls,
    };
  } finally {
    await bare.stop();
    await bareUndici.stop();
  }
}
