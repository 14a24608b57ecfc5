import { BENCH_METRICS_TOKEN, BenchStack, type Engine, readMetrics, wideMappings } from './environment.js';
import {
  cannon,
  type Era,
  FETCH_MAILS_ERAS,
  LIST_TOOLS_BODY,
  LIST_TOOLS_HEADERS,
  type LoadResult,
  paced,
  percentile,
  WARM_UP_CALLS,
} from './load.js';
import { cpuMs, rssMb } from './proc.js';
import { Admin, issueSandboxToken, type Switchboard, startBareServer, startSwitchboard } from './stack.js';

/** One tools/list answer, checked to list `count` distinct tools; its body is returned. */
async function verifiedToolsList(url: string, count: number): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: LIST_TOOLS_HEADERS, body: LIST_TOOLS_BODY });
  const body = await response.text();
  const tools = (JSON.parse(body) as { result?: { tools?: { name: string }[] } }).result?.tools ?? [];
  if (response.status !== 200 || new Set(tools.map((t) => t.name)).size !== count)
    throw new Error(`tools/list answered ${response.status} with ${tools.length} tools, expected ${count}`);
  return body;
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  if (!sorted.length) return 0;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The median of each numeric field over rows of the same shape. */
function medians<T extends object>(rows: T[]): T {
  const out: Record<string, number> = {};
  for (const key of Object.keys(rows[0] ?? {})) {
    out[key] = median(rows.map((row) => (row as Record<string, number>)[key] ?? 0));
  }
  return out as T;
}

/** One server's measures over a point's rounds: the median of each, and the totals. */
export interface TargetSummary {
  rps: number;
  p50: number;
  p99: number;
  /** CPU ms per call of the server process (its own /proc/<pid>/stat), median over rounds. */
  cpuPerCall: number;
  /** CPU ms per call the sandbox spent answering this server's provider calls (median). */
  sandboxCpuPerCall: number;
  /** CPU ms per call of the load generator (this harness process) sending and reading (median). */
  clientCpuPerCall: number;
  requests: number;
  failures: number;
}

/** Event-loop delay of a server process during its rounds (ms; median over rounds). */
export interface LoopDelay {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Garbage collection in a server process during a round (Switchboard: prom-client's
 * `nodejs_gc_duration_seconds`; the bare server: its /stats, from the same `gc` performance
 * entries; the difference of two reads; medians over rounds): what the tail latency can be
 * blamed on besides the work itself.
 */
export interface GcPauses {
  /** Pause ms per call, all kinds. */
  msPerCall: number;
  /** The mean scavenge's pause, ms: a call in flight during one waits this long. */
  msPerScavenge: number;
  /** Scavenges (young generation) and mark-compacts (whole heap) per second. */
  minorPerS: number;
  majorPerS: number;
  /** Pauses longer than 1 ms and longer than 10 ms, per second (the histogram's buckets). */
  over1msPerS: number;
  over10msPerS: number;
}

export interface OverheadPoint {
  era: string;
  connections: number;
  rounds: number;
  /** The bare server calling the sandbox with fetch(). */
  bare: TargetSummary;
  /** The bare server calling the sandbox with undici's request API, as Switchboard does. */
  bareUndici: TargetSummary;
  switchboard: TargetSummary;
  /** Another build of Switchboard (bench --baseline), in the same alternating rounds. */
  baseline?: TargetSummary;
  /** Per-round Switchboard/other ratios and differences, paired within a round, then the median. */
  versus: {
    bare: Versus;
    bareUndici: Versus;
    baseline?: Versus;
  };
  /** Event-loop delay and GC of Switchboard and of the undici bare server during their rounds. */
  underLoad?: { switchboard: ProcessUnderLoad; bareUndici: ProcessUnderLoad };
  /** The same calls as an open loop at one rate for both servers (the `equalRateAt` concurrency only). */
  equalRate?: EqualRate;
}

/**
 * Switchboard and the undici bare server offered the same rate (load.ts `paced`): `share` of
 * the lower of their closed-loop rates at this point, so neither queues for want of capacity.
 */
export interface EqualRate {
  rate: number;
  rounds: number;
  bareUndici: LatencySummary;
  switchboard: LatencySummary;
  /** Switchboard's pooled percentiles minus the bare server's (ms). */
  addedP50: number;
  addedP99: number;
}

export interface LatencySummary {
  /** Answers per second, which an open loop keeps at the offered rate while the server keeps up. */
  rps: number;
  /** Over every call of the rounds pooled: a round's p99 turns on whether a major GC fell in it. */
  p50: number;
  p99: number;
  /** Each round's own p99, in round order. */
  roundP99s: number[];
  /** How late the load generator itself sent (p99, ms): what of the latency is the client's. */
  lateP99: number;
  failures: number;
}

export interface ProcessUnderLoad {
  loopDelay: LoopDelay;
  gc: GcPauses;
}

export interface Versus {
  ratio: number;
  addedP99: number;
  /**
   * Switchboard's CPU per call over the other server's, in ms: the median of the per-round
   * CPU ratios (minus one) times the other server's median CPU per call. A shared VM's speed
   * drifts by tens of percent within a minute and scales every process alike, so a round's
   * ratio holds still where its difference in ms does not.
   */
  addedCpu: number;
  /** The interquartile range of the per-round figures behind addedCpu (ms): how far to trust it. */
  addedCpuSpread: [number, number];
}

export interface Round {
  result: LoadResult;
  cpuPerCall: number;
  sandboxCpuPerCall: number;
  clientCpuPerCall: number;
}

function summary(rounds: Round[]): TargetSummary {
  return {
    rps: median(rounds.map((r) => r.result.rps)),
    p50: median(rounds.map((r) => r.result.p50)),
    p99: median(rounds.map((r) => r.result.p99)),
    cpuPerCall: median(rounds.map((r) => r.cpuPerCall)),
    sandboxCpuPerCall: median(rounds.map((r) => r.sandboxCpuPerCall)),
    clientCpuPerCall: median(rounds.map((r) => r.clientCpuPerCall)),
    requests: rounds.reduce((n, r) => n + r.result.requests, 0),
    failures: rounds.reduce((n, r) => n + r.result.failures, 0),
  };
}

/** The value at fraction `q` (0..1) of the sorted values, interpolated between neighbours. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (!sorted.length) return 0;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (at - low);
}

export function paired(own: Round[], other: Round[]): Versus {
  const each = own.map((round, i) => ({ own: round, other: other[i] as Round }));
  const otherCpu = median(other.map((r) => r.cpuPerCall));
  const added = each.map((p) => (p.own.cpuPerCall / Math.max(1e-9, p.other.cpuPerCall) - 1) * otherCpu);
  return {
    ratio: median(each.map((p) => p.own.result.rps / Math.max(1e-9, p.other.result.rps))),
    addedP99: median(each.map((p) => p.own.result.p99 - p.other.result.p99)),
    addedCpu: median(added),
    addedCpuSpread: [quantile(added, 0.25), quantile(added, 0.75)],
  };
}

/** prom-client's default `eventLoopMonitoringPrecision`, which Switchboard keeps. */
const LOOP_SAMPLING_MS = 10;

/** A delay read from the histogram, less its sampling interval (it records the whole gap between samples). */
const pastSampling = (ms: number) => Math.max(0, ms - LOOP_SAMPLING_MS);

/** Cumulative GC counters at one scrape: pauses, seconds, and pauses within 1 ms / 10 ms. */
export interface GcTotals {
  count: number;
  seconds: number;
  within1ms: number;
  within10ms: number;
  minor: number;
  minorSeconds: number;
  major: number;
}

export interface Scrape {
  loop: LoopDelay;
  gc: GcTotals;
}

/**
 * Reads prom-client's event-loop lag gauges (each scrape also resets the histogram behind
 * them) and its cumulative GC histogram.
 */
async function scrapeMetrics(serverUrl: string): Promise<Scrape | undefined> {
  const { status, text } = await readMetrics(serverUrl);
  if (status !== 200) return undefined;
  const read = (name: string) => {
    const match = new RegExp(`^switchboard_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    return match ? pastSampling(Number(match[1]) * 1000) : Number.NaN;
  };
  const gc: GcTotals = { count: 0, seconds: 0, within1ms: 0, within10ms: 0, minor: 0, minorSeconds: 0, major: 0 };
  for (const line of text.split('\n')) {
    const match = /^switchboard_nodejs_gc_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const [, series, labels = '', value] = match;
    const n = Number(value);
    const kind = /kind="([^"]+)"/.exec(labels)?.[1];
    if (series === 'sum') {
      gc.seconds += n;
      if (kind === 'minor') gc.minorSeconds += n;
    } else if (series === 'count') {
      gc.count += n;
      if (kind === 'minor') gc.minor += n;
      if (kind === 'major') gc.major += n;
    } else if (labels.includes('le="0.001"')) gc.within1ms += n;
    else if (labels.includes('le="0.01"')) gc.within10ms += n;
  }
  return { loop: { p50: read('p50'), p90: read('p90'), p99: read('p99'), max: read('max') }, gc };
}

/** The bare server's /stats (bare-server.ts), read as a scrape of Switchboard's /metrics is. */
export async function scrapeBare(serverUrl: string): Promise<Scrape | undefined> {
  const response = await fetch(new URL('/stats', serverUrl));
  if (response.status !== 200) return undefined;
  const { loop, gc } = (await response.json()) as Scrape;
  return {
    loop: {
      p50: pastSampling(loop.p50),
      p90: pastSampling(loop.p90),
      p99: pastSampling(loop.p99),
      max: pastSampling(loop.max),
    },
    gc,
  };
}

function gcDuring(before: GcTotals, after: GcTotals, calls: number, seconds: number): GcPauses {
  const count = after.count - before.count;
  const scavenges = after.minor - before.minor;
  return {
    msPerCall: ((after.seconds - before.seconds) * 1000) / Math.max(1, calls),
    msPerScavenge: scavenges ? ((after.minorSeconds - before.minorSeconds) * 1000) / scavenges : 0,
    minorPerS: (after.minor - before.minor) / seconds,
    majorPerS: (after.major - before.major) / seconds,
    over1msPerS: (count - (after.within1ms - before.within1ms)) / seconds,
    over10msPerS: (count - (after.within10ms - before.within10ms)) / seconds,
  };
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
 * tools/call of gmail_fetch_mails {max_results: 1} through a Switchboard instance URL against
 * two bare SDK servers, same sandbox, same concurrency, in each protocol era: `rounds`
 * alternating rounds per point (the first server changes every round, so a noisy neighbour
 * on the shared cores hits all three alike), reported as medians; CPU per call read from each
 * server's own /proc/<pid>/stat. Then tools/list of a 25-connection config.
 */
export async function overhead(
  engine: Engine,
  options: {
    roundS: number;
    rounds: number;
    /** Protocol eras to measure, by revision name. */
    eras: string[];
    concurrency: number[];
    /** How long the tools/list run lasts. */
    durationS: number;
    nodeArgs?: string[];
    users: number;
    /** `server/dist/cli.js` of another build, measured in the same rounds (SQLite only). */
    baselineCli?: string;
    /** The concurrency whose point is measured again at an equal offered rate, and the share of capacity offered. */
    equalRate?: { connections: number; share: number };
  },
): Promise<OverheadResult> {
  // Metrics on, to read the event-loop delay and GC pauses; the baseline build gets the same settings.
  const env = { SWITCHBOARD_METRICS_TOKEN: BENCH_METRICS_TOKEN };
  const stack = await BenchStack.start(engine, { nodeArgs: options.nodeArgs, env });
  const urls = await benchInstances(stack.server, stack.admin, options.users);
  // The baseline build shares the sandbox and gets a data folder of its own (SQLite).
  const baseline =
    options.baselineCli && engine === 'sqlite'
      ? await startSwitchboard({
          sandboxUrl: stack.sandbox.url,
          cli: options.baselineCli,
          nodeArgs: options.nodeArgs,
          env,
        })
      : undefined;
  const token = await issueSandboxToken(stack.sandbox.url);
  const bare = await startBareServer(stack.sandbox.url, token, 'fetch');
  // With --profile, the undici baseline is profiled too: the two profiles side by side show what
  // Switchboard adds to the same SDK path.
  const bareUndici = await startBareServer(stack.sandbox.url, token, 'undici', options.nodeArgs);
  try {
    // Event-loop delay and GC are read from Switchboard and from the bare server that holds the
    // HTTP client equal, around each of their rounds.
    const targets: { urls: string[]; pid: number; scrape?: () => Promise<Scrape | undefined> }[] = [
      { urls: [bare.url], pid: bare.pid },
      { urls: [bareUndici.url], pid: bareUndici.pid, scrape: () => scrapeBare(bareUndici.url) },
      { urls, pid: stack.server.pid, scrape: () => scrapeMetrics(stack.server.url) },
    ];
    if (baseline) {
      const baselineAdmin = Admin.fromDataDir(baseline.url, baseline.dataDir);
      const baselineUrls = await benchInstances(baseline, baselineAdmin, options.users);
      targets.push({ urls: baselineUrls, pid: baseline.pid });
    }
    const eras = FETCH_MAILS_ERAS.filter((era) => options.eras.includes(era.name));
    for (const era of eras) {
      const warm = { body: era.body, headers: era.headers, connections: 10, durationS: 0, amount: WARM_UP_CALLS };
      for (const target of targets) await cannon({ ...warm, label: 'warm-up', urls: target.urls });
    }

    const points: OverheadPoint[] = [];
    for (const connections of options.concurrency) {
      for (const era of eras) {
        const run = { body: era.body, headers: era.headers, connections, durationS: options.roundS };
        const rounds = targets.map(() => [] as Round[]);
        const loads = targets.map((): Readings => ({ delays: [], pauses: [] }));
        for (let round = 0; round < options.rounds; round++) {
          for (let k = 0; k < targets.length; k++) {
            const index = (round + k) % targets.length;
            const target = targets[index];
            if (!target) continue;
            const before = await target.scrape?.();
            const start = cpuMs(target.pid);
            const sandboxStart = cpuMs(stack.sandbox.pid);
            const clientStart = process.cpuUsage();
            const result = await cannon({ ...run, label: 'tools/call', urls: target.urls });
            const cpu = cpuMs(target.pid) - start;
            const sandboxCpu = cpuMs(stack.sandbox.pid) - sandboxStart;
            const client = process.cpuUsage(clientStart);
            const clientCpu = (client.user + client.system) / 1000;
            const after = before && (await target.scrape?.());
            if (before && after) {
              loads[index]?.delays.push(after.loop);
              loads[index]?.pauses.push(gcDuring(before.gc, after.gc, result.requests, result.durationS));
            }
            const calls = Math.max(1, result.requests);
            rounds[index]?.push({
              result,
              cpuPerCall: cpu / calls,
              sandboxCpuPerCall: sandboxCpu / calls,
              clientCpuPerCall: clientCpu / calls,
            });
          }
        }
        const [bareRounds, undiciRounds, ownRounds, baselineRounds] = rounds as [
          Round[],
          Round[],
          Round[],
          Round[] | undefined,
        ];
        points.push({
          era: era.name,
          connections,
          rounds: options.rounds,
          bare: summary(bareRounds),
          bareUndici: summary(undiciRounds),
          switchboard: summary(ownRounds),
          ...(baselineRounds ? { baseline: summary(baselineRounds) } : {}),
          versus: {
            bare: paired(ownRounds, bareRounds),
            bareUndici: paired(ownRounds, undiciRounds),
            ...(baselineRounds ? { baseline: paired(ownRounds, baselineRounds) } : {}),
          },
          ...underLoad(loads[2], loads[1]),
          ...(options.equalRate?.connections === connections
            ? {
                equalRate: await atEqualRate({
                  era,
                  connections,
                  rounds: options.rounds,
                  roundS: options.roundS,
                  rate:
                    options.equalRate.share *
                    Math.min(median(undiciRounds.map((r) => r.result.rps)), median(ownRounds.map((r) => r.result.rps))),
                  bareUrls: [bareUndici.url],
                  ownUrls: urls,
                }),
              }
            : {}),
        });
      }
    }

    const { admin } = stack;
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
    await cannon({ ...list, durationS: 0, amount: WARM_UP_CALLS });
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
    if (baseline) {
      await baseline.stop();
      baseline.removeDataDir();
    }
  }
}

/**
 * Alternating open-loop rounds of the undici bare server and Switchboard at one rate (which
 * goes first turns each round, as in the closed-loop rounds); each server's percentiles are
 * read over all its rounds' calls pooled.
 */
async function atEqualRate(options: {
  era: Era;
  connections: number;
  rounds: number;
  roundS: number;
  rate: number;
  bareUrls: string[];
  ownUrls: string[];
}): Promise<EqualRate> {
  const rate = Math.max(1, Math.round(options.rate));
  const run = {
    label: 'tools/call at an equal rate',
    body: options.era.body,
    headers: options.era.headers,
    connections: options.connections,
    rate,
    durationS: options.roundS,
  };
  const bare: LoadResult[] = [];
  const own: LoadResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 ? (['own', 'bare'] as const) : (['bare', 'own'] as const);
    for (const which of order) {
      if (which === 'bare') bare.push(await paced({ ...run, urls: options.bareUrls }));
      else own.push(await paced({ ...run, urls: options.ownUrls }));
    }
  }
  const latencies = (results: LoadResult[]): LatencySummary => {
    const pooled = results.flatMap((r) => r.latencies ?? []).sort((x, y) => x - y);
    return {
      rps: median(results.map((r) => r.rps)),
      p50: percentile(pooled, 50),
      p99: percentile(pooled, 99),
      roundP99s: results.map((r) => r.p99),
      lateP99: median(results.map((r) => r.lateP99 ?? 0)),
      failures: results.reduce((n, r) => n + r.failures, 0),
    };
  };
  const ownLatencies = latencies(own);
  const bareLatencies = latencies(bare);
  return {
    rate,
    rounds: options.rounds,
    bareUndici: bareLatencies,
    switchboard: ownLatencies,
    addedP50: ownLatencies.p50 - bareLatencies.p50,
    addedP99: ownLatencies.p99 - bareLatencies.p99,
  };
}

/** What one server's rounds read: its event-loop delay and GC pauses, a round each. */
interface Readings {
  delays: LoopDelay[];
  pauses: GcPauses[];
}

/** Medians of what the rounds of Switchboard and of the undici bare server read, when both were read. */
function underLoad(own: Readings | undefined, bare: Readings | undefined): Pick<OverheadPoint, 'underLoad'> {
  if (!own?.delays.length || !bare?.delays.length) return {};
  const of = (load: Readings) => ({
    loopDelay: medians(load.delays),
    gc: medians(load.pauses),
  });
  return { underLoad: { switchboard: of(own), bareUndici: of(bare) } };
}

/** The bench's config on one Switchboard, and the instance URLs of `users` consented users. */
export async function benchInstances(server: Switchboard, admin: Admin, users: number): Promise<string[]> {
  await admin.createConnection('MY_GMAIL', 'gmail');
  await admin.createConfig('bench', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
  const urls: string[] = [];
  for (let i = 0; i < users; i++) {
    const instance = await admin.ensureInstance('bench', `user-${i}`);
    await admin.connectAll(instance.id);
    urls.push(instance.url.replace(/^http:\/\/[^/]+/, server.url));
  }
  return urls;
}
