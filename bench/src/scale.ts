import autocannon from 'autocannon';
import { BENCH_METRICS_TOKEN, BenchStack, type Engine, readMetrics } from './environment.js';
import { cannon, FETCH_MAILS_BODY, FETCH_MAILS_HEADERS, type LoadResult, WARM_UP_CALLS } from './load.js';
import { cpuDelta } from './postgres.js';
import { cpuMs, mainThreadCpuMs, sleep } from './proc.js';
import { type SeedResult, seedUsers } from './seed.js';

/**
 * One round of the loaded part: a first pass over a working set no earlier round touched, a
 * loaded run on it, then a run of the 10 users, so each round compares the two steady states
 * seconds apart.
 */
export interface ScaleRound {
  /** When its first pass and loaded run ran (monotonic µs, as ScaleResult.windows). */
  windows: { cold: [number, number]; large: [number, number] };
  /** The first pass over the working set: every call misses the caches. */
  cold: LoadResult;
  large: LoadResult;
  /** The 10 users of the hot path, on the same server and tables right after the loaded run. */
  small: LoadResult;
  /** Switchboard CPU ms per tools/call (its own /proc/<pid>/stat) in either run. */
  cpuPerCall: { cold: number; large: number };
  /** The same in the 10-user run. */
  smallCpuPerCall: number;
  /** The part of it on Switchboard's main thread (the rest: GC helpers, compiler, SQLite's checkpointer). */
  mainCpuPerCall: { cold: number; large: number };
  /** Postgres: CPU ms per tools/call of the schema's backends in either run; undefined on SQLite. */
  backendCpuPerCall?: { cold: number; large: number };
  /** The first pass's cold instance lookups: digests per query (concurrent first calls share one). */
  digestsPerLookup: number;
}

/**
 * The same for `POST /api/v1/execute_tool` on a working set of its own: a call names its user
 * by identifier, so its cold part is the account (by connection and identifier) and its token.
 */
export interface RestRound {
  /** When the first pass and the loaded run ran (monotonic µs, as ScaleResult.windows). */
  windows: { cold: [number, number]; large: [number, number] };
  cold: LoadResult;
  large: LoadResult;
  cpuPerCall: { cold: number; large: number };
  mainCpuPerCall: { cold: number; large: number };
  backendCpuPerCall?: { cold: number; large: number };
  /** The first pass's cold account lookups: keys per query. */
  digestsPerLookup: number;
}

/**
 * A round's working set called once more, each user once, after its cached rows expired: the
 * users who come back after a few idle minutes, as an agent's periodic calls do.
 */
export interface ReturningPass {
  /** Which round's set (0 = the first). */
  round: number;
  /** Seconds from the end of that round's loaded run to the start of this pass. */
  idleS: number;
  /** When the pass ran (monotonic µs, as ScaleResult.windows). */
  window: [number, number];
  result: LoadResult;
  cpuPerCall: number;
  mainCpuPerCall: number;
  backendCpuPerCall?: number;
  /** Instance cache lookups in the pass that missed (rows read again), from /metrics. */
  instanceMisses: number;
  /**
   * Token grant cache misses in the pass: tokens decrypted again. (Hits say less: a call that
   * makes two provider requests looks its grant up twice, and the second finds the first's.)
   */
  grantMisses: number;
}

export interface ScaleResult {
  engine: Engine;
  seed: SeedResult;
  rounds: ScaleRound[];
  rest: RestRound;
  /** The last rounds' sets again, once their cached rows expired (RETURNING_IDLE_MS). */
  returning: ReturningPass[];
  ensure: LoadResult;
  authState: LoadResult;
  /** Users per round's working set. */
  workingSet: number;
  /**
   * When the first round's first pass and loaded run ran, in µs of the monotonic clock that
   * V8's profiler stamps its samples with: `profile-summary --window` cuts a profile to either.
   */
  windows: { cold: [number, number]; large: [number, number] };
}

/**
 * Runs a load; gives its result, Switchboard's CPU per call (all threads, and its main thread's
 * part), and (Postgres) its backends' CPU per call.
 */
type Measured = (load: () => Promise<LoadResult>) => Promise<Measurement>;
interface Measurement {
  result: LoadResult;
  cpu: number;
  mainCpu: number;
  backends?: number;
}

/**
 * The sample dealt into `rounds` working sets, every user in exactly one: each round's first
 * pass then misses every cache, and every set is spread over the whole table like the sample.
 */
export function workingSets<T>(sample: readonly T[], rounds: number): T[][] {
  const sets: T[][] = Array.from({ length: rounds }, () => []);
  sample.forEach((user, i) => {
    sets[i % rounds]?.push(user);
  });
  return sets;
}

/** Now on the monotonic clock, in µs (the clock of a --cpu-prof profile's timestamps). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** One series' value in a /metrics scrape (`series`: a metric's name with its labels, as printed). */
function seriesValue(scrape: { status: number; text: string }, series: string): number {
  const escaped = series.replace(/[{}]/g, (brace) => `\\${brace}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(scrape.text);
  if (!match) throw new Error(`/metrics has no ${series} (HTTP ${scrape.status})`);
  return Number(match[1]);
}

/** A batched lookup's counters (mcp_instances, connected_accounts), from Switchboard's /metrics. */
export async function lookupCounts(
  origin: string,
  lookup = 'mcp_instances',
): Promise<{ queries: number; keys: number }> {
  const scrape = await readMetrics(origin);
  const read = (counted: string) =>
    seriesValue(scrape, `switchboard_batched_lookup_${counted}_total{lookup="${lookup}"}`);
  return { queries: read('queries'), keys: read('keys') };
}

/**
 * How long a returning pass's users have been idle, at least: past the server's cache max
 * age (60 s: every cached instance and account row has expired) and its `last_used_at`
 * interval (60 s: their uses are written again, as a first pass's are).
 */
export const RETURNING_IDLE_MS = 61_000;

/**
 * Returning passes per engine, on the last rounds' sets: their grants are still among the
 * 50,000 a process keeps (the first rounds' are pushed out by the later ones' at 10,000 users
 * a set), as a busy server keeps its recent users'.
 */
const RETURNING_PASSES = 2;

/** Misses since start of in-process caches, by cache name, from one scrape of Switchboard's /metrics. */
export async function cacheMisses<C extends string>(origin: string, caches: readonly C[]): Promise<Record<C, number>> {
  const scrape = await readMetrics(origin);
  const misses = {} as Record<C, number>;
  for (const cache of caches) {
    misses[cache] = seriesValue(scrape, `switchboard_cache_lookups_total{cache="${cache}",result="miss"}`);
  }
  return misses;
}

/** A management API call under autocannon, each request naming the next user of the sample. */
async function managementLoad(options: {
  label: string;
  origin: string;
  token: string;
  durationS: number;
  next: (sequence: number) => { path: string; body: string };
}): Promise<LoadResult> {
  let sequence = 0;
  let bad = 0;
  const result = await autocannon({
    url: options.origin,
    connections: 10,
    duration: options.durationS,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        setupRequest: (req) => {
          const { path, body } = options.next(sequence++);
          req.path = path;
          req.body = body;
          return req;
        },
        onResponse: (status: number) => {
          if (status !== 200) bad++;
        },
      },
    ],
  });
  return {
    label: options.label,
    connections: 10,
    requests: result.requests.total,
    rps: result.requests.total / options.durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + bad,
    durationS: options.durationS,
  };
}

/**
 * tools/call throughput after bulk-loading `users` users (two accounts each) beside 10 users
 * made through the API: `rounds` rounds, each a first pass over a working set of seeded users
 * that no earlier round touched (so every call of it misses the caches), a loaded run on that
 * set and a run of the 10 users (a ratio of two runs seconds apart, as the overhead section's
 * pairs, not of runs minutes apart on a VM whose speed drifts); one more such round over REST
 * execute_tool on a set of its own; then ensure-instance and auth-state latency against the
 * loaded tables.
 */
export async function scale(
  engine: Engine,
  options: { users: number; workingSet: number; rounds: number; durationS: number; nodeArgs?: string[] },
): Promise<ScaleResult> {
  // Metrics on, to read how many cold lookups shared a query.
  const stack = await BenchStack.start(engine, {
    nodeArgs: options.nodeArgs,
    env: { SWITCHBOARD_METRICS_TOKEN: BENCH_METRICS_TOKEN },
  });
  const measured: Measured = async (load) => {
    const { pid } = stack.server;
    const backendsBefore = stack.schema ? await stack.schema.backendCpu() : undefined;
    const start = cpuMs(pid);
    const mainStart = mainThreadCpuMs(pid);
    const result = await load();
    const cpu = cpuMs(pid) - start;
    const mainCpu = mainThreadCpuMs(pid) - mainStart;
    const calls = Math.max(1, result.requests);
    const backends =
      backendsBefore && stack.schema ? cpuDelta(backendsBefore, await stack.schema.backendCpu()) / calls : undefined;
    return { result, cpu: cpu / calls, mainCpu: mainCpu / calls, ...(backends === undefined ? {} : { backends }) };
  };
  try {
    const { admin } = stack;
    await admin.createConnection('MY_GMAIL', 'gmail');
    await admin.createConnection('MY_CALENDAR', 'googlecalendar');
    const configId = await admin.createConfig('scale', [
      { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
      { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
    ]);
    const small = await stack.connectedUsers('scale', 'user', 10);
    const local = (url: string) => url.replace(/^http:\/\/[^/]+/, stack.server.url);
    const smallUrls = small.map((i) => local(i.url));
    const run = { body: FETCH_MAILS_BODY, headers: FETCH_MAILS_HEADERS, connections: 10 };
    await cannon({ ...run, label: 'warm-up', urls: smallUrls, durationS: 0, amount: WARM_UP_CALLS });

    const seed = await seedUsers({
      databaseUrl: stack.schema?.databaseUrl,
      dataDir: stack.server.dataDir,
      configId,
      templateAccountIds: await stack.accountIdsOf('user-0'),
      users: options.users,
      sampleSize: Math.min(options.users, options.workingSet * (options.rounds + 2)),
    });
    // The last set warms the cold path's code, half of it through MCP and half through REST;
    // the one before is the REST round's: no MCP call warms its accounts.
    const dealt = workingSets(seed.sample, options.rounds + 2);
    const coldWarmUp = dealt.pop() ?? [];
    const restSet = dealt.pop() ?? [];
    const half = Math.ceil(coldWarmUp.length / 2);
    const instanceUrl = (s: SeedResult['sample'][number]) => `${stack.server.url}/mcp/i/${s.secret}`;
    const sets = dealt.map((set) => set.map(instanceUrl));
    // First calls of users no round measures, so the first pass finds the cold path compiled,
    // as on a server that has run a while: it measures cold caches, not cold code.
    const coldUrls = coldWarmUp.slice(0, half).map(instanceUrl);
    await cannon({ ...run, label: 'cold warm-up', urls: coldUrls, durationS: 0, amount: coldUrls.length });
    // Its last usage marks are written within the second after it, not in the first pass.
    await sleep(2_000);
    const rounds: ScaleRound[] = [];
    /** When each round's loaded run ended (performance.now()). */
    const loadedEnds: number[] = [];
    let windows: ScaleResult['windows'] | undefined;
    for (const urls of sets) {
      // One pass over the set first, each user once, measured on its own: every call of it
      // misses the caches. The comparison with the 10-user case is of steady states.
      const lookupsBefore = await lookupCounts(stack.server.url);
      const coldStart = monotonicUs();
      const first = await measured(() =>
        cannon({ ...run, label: 'first pass', urls, durationS: 0, amount: urls.length }),
      );
      const cold = first.result;
      const lookupsAfter = await lookupCounts(stack.server.url);
      const largeStart = monotonicUs();
      const loaded = await measured(() =>
        cannon({ ...run, label: `${options.users} users`, urls, durationS: options.durationS }),
      );
      const large = loaded.result;
      loadedEnds.push(performance.now());
      const roundWindows: ScaleRound['windows'] = {
        cold: [coldStart, coldStart + Math.round(cold.durationS * 1e6)],
        large: [largeStart, monotonicUs()],
      };
      windows ??= roundWindows;
      const hot = await measured(() =>
        cannon({ ...run, label: '10 users', urls: smallUrls, durationS: options.durationS }),
      );
      rounds.push({
        windows: roundWindows,
        cold,
        large,
        small: hot.result,
        smallCpuPerCall: hot.cpu,
        ...perCall(first, loaded),
        digestsPerLookup:
          (lookupsAfter.keys - lookupsBefore.keys) / Math.max(1, lookupsAfter.queries - lookupsBefore.queries),
      });
    }

    const rest = await restRound(
      stack,
      restSet,
      { hot: small.map((_, i) => `user-${i}`), cold: coldWarmUp.slice(half).map((s) => s.user) },
      measured,
      options.durationS,
    );

    // Before ensure-instance and auth state, which touch users of every set.
    const returning: ReturningPass[] = [];
    const firstReturning = Math.max(0, sets.length - RETURNING_PASSES);
    for (const [at, urls] of sets.slice(firstReturning).entries()) {
      const round = firstReturning + at;
      const idleMs = performance.now() - (loadedEnds[round] ?? 0);
      if (idleMs < RETURNING_IDLE_MS) await sleep(RETURNING_IDLE_MS - idleMs);
      const idleS = (performance.now() - (loadedEnds[round] ?? 0)) / 1000;
      const caches = ['mcp_instances', 'token_grants'] as const;
      const before = await cacheMisses(stack.server.url, caches);
      const passStart = monotonicUs();
      const pass = await measured(() =>
        cannon({ ...run, label: 'returning pass', urls, durationS: 0, amount: urls.length }),
      );
      const window: [number, number] = [passStart, passStart + Math.round(pass.result.durationS * 1e6)];
      const after = await cacheMisses(stack.server.url, caches);
      returning.push({
        round,
        idleS,
        window,
        result: pass.result,
        cpuPerCall: pass.cpu,
        mainCpuPerCall: pass.mainCpu,
        ...(pass.backends !== undefined ? { backendCpuPerCall: pass.backends } : {}),
        instanceMisses: after.mcp_instances - before.mcp_instances,
        grantMisses: after.token_grants - before.token_grants,
      });
    }

    const token = await admin.accessToken();
    const pick = (n: number) => seed.sample[(n * 7919) % seed.sample.length] ?? seed.sample[0];
    const ensure = await managementLoad({
      label: 'ensure instance',
      origin: stack.server.url,
      token,
      durationS: options.durationS,
      next: (n) => ({
        path: '/api/v1/mcp/instances',
        body: JSON.stringify({ config_name: 'scale', user_identifier: pick(n)?.user }),
      }),
    });
    const authState = await managementLoad({
      label: 'auth state',
      origin: stack.server.url,
      token,
      durationS: options.durationS,
      next: (n) => ({ path: `/api/v1/mcp/instances/${pick(n)?.instanceId}:get_auth_state`, body: '{}' }),
    });
    return {
      engine,
      seed,
      rounds,
      rest,
      returning,
      ensure,
      authState,
      workingSet: sets[0]?.length ?? 0,
      windows: windows ?? { cold: [0, 0], large: [0, 0] },
    };
  } finally {
    await stack.stop();
  }
}

/** A round's CPU per call, first pass and loaded run side by side. */
function perCall(
  first: Measurement,
  loaded: Measurement,
): Pick<ScaleRound, 'cpuPerCall' | 'mainCpuPerCall' | 'backendCpuPerCall'> {
  return {
    cpuPerCall: { cold: first.cpu, large: loaded.cpu },
    mainCpuPerCall: { cold: first.mainCpu, large: loaded.mainCpu },
    ...(first.backends !== undefined && loaded.backends !== undefined
      ? { backendCpuPerCall: { cold: first.backends, large: loaded.backends } }
      : {}),
  };
}

/**
 * REST execute_tool (gmail_fetch_mails {max_results: 1} on MY_GMAIL) for each user of `set`
 * once, then a loaded run over the same users, as a tools/call round: the backend's face,
 * where the cold part is the account lookup by (connection, identifier) and the token. The
 * REST path is warmed first, on `warm.hot` (users already cached) and then with one call of
 * each user of `warm.cold` (first calls), so the first pass is cold in its caches, not in
 * its code.
 */
async function restRound(
  stack: BenchStack,
  set: SeedResult['sample'],
  warm: { hot: string[]; cold: string[] },
  measured: Measured,
  durationS: number,
): Promise<RestRound> {
  const bodiesOf = (users: string[]) =>
    users.map((user) =>
      JSON.stringify({
        tool_name: 'gmail_fetch_mails',
        connector: 'MY_GMAIL',
        identifier: user,
        params: { max_results: 1 },
      }),
    );
  const bodies = bodiesOf(set.map((s) => s.user));
  const url = `${stack.server.url}/api/v1/execute_tool`;
  const run = async (label: string, amount?: number, runBodies = bodies) => {
    const headers = {
      authorization: `Bearer ${await stack.admin.accessToken()}`,
      'content-type': 'application/json',
    };
    return measured(() =>
      cannon({
        label,
        urls: [url],
        body: '',
        bodies: runBodies,
        headers,
        connections: 10,
        durationS: amount ? 0 : durationS,
        amount,
        expectText: '"execution_id":"',
      }),
    );
  };
  await run('REST warm-up', WARM_UP_CALLS, bodiesOf(warm.hot));
  if (warm.cold.length > 0) await run('REST cold warm-up', warm.cold.length, bodiesOf(warm.cold));
  const before = await lookupCounts(stack.server.url, 'connected_accounts');
  const coldStart = monotonicUs();
  const first = await run('REST first pass', bodies.length);
  const cold = first.result;
  const after = await lookupCounts(stack.server.url, 'connected_accounts');
  const largeStart = monotonicUs();
  const loaded = await run('REST loaded');
  return {
    windows: { cold: [coldStart, coldStart + Math.round(cold.durationS * 1e6)], large: [largeStart, monotonicUs()] },
    cold,
    large: loaded.result,
    ...perCall(first, loaded),
    digestsPerLookup: (after.keys - before.keys) / Math.max(1, after.queries - before.queries),
  };
}
