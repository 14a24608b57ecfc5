import autocannon from 'autocannon';
import { BenchStack, type Engine } from './environment.js';
import { cannon, FETCH_MAILS_BODY, FETCH_MAILS_HEADERS, type LoadResult } from './load.js';
import { cpuDelta } from './postgres.js';
import { cpuMs } from './proc.js';
import { type SeedResult, seedUsers } from './seed.js';

export interface ScaleResult {
  engine: Engine;
  seed: SeedResult;
  small: LoadResult;
  /** The first pass over the working set: every call misses the caches. */
  cold: LoadResult;
  large: LoadResult;
  ensure: LoadResult;
  authState: LoadResult;
  workingSet: number;
  /** Switchboard CPU ms per tools/call (its own /proc/<pid>/stat) in the three runs. */
  cpuPerCall: { small: number; cold: number; large: number };
  /** Postgres: CPU ms per tools/call of the schema's backends (first pass, loaded run); undefined on SQLite. */
  backendCpuPerCall?: { cold: number; large: number };
  /**
   * When the first pass and the loaded run ran, in µs of the monotonic clock that V8's
   * profiler stamps its samples with: `profile-summary --window` cuts a profile to either.
   */
  windows: { cold: [number, number]; large: [number, number] };
}

/** Now on the monotonic clock, in µs (the clock of a --cpu-prof profile's timestamps). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

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
 * tools/call throughput with 10 users, then again after bulk-loading `users` users (two
 * accounts each), spread over a working set of seeded users; then ensure-instance and
 * auth-state latency against the loaded tables.
 */
export async function scale(
  engine: Engine,
  options: { users: number; workingSet: number; durationS: number; nodeArgs?: string[] },
): Promise<ScaleResult> {
  const stack = await BenchStack.start(engine, { nodeArgs: options.nodeArgs });
  const backendCpu: { cold?: number; large?: number } = {};
  /** Runs a load; gives its result and Switchboard's CPU per call, and notes the backends' per call under `label`. */
  const measured = async (load: () => Promise<LoadResult>, label?: 'cold' | 'large'): Promise<[LoadResult, number]> => {
    const backendsBefore = label && stack.schema ? await stack.schema.backendCpu() : undefined;
    const start = cpuMs(stack.server.pid);
    const result = await load();
    const cpu = cpuMs(stack.server.pid) - start;
    const calls = Math.max(1, result.requests);
    if (label && backendsBefore && stack.schema) {
      backendCpu[label] = cpuDelta(backendsBefore, await stack.schema.backendCpu()) / calls;
    }
    return [result, cpu / calls];
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
    const run = { body: FETCH_MAILS_BODY, headers: FETCH_MAILS_HEADERS, connections: 10 };
    await cannon({ ...run, label: 'warm-up', urls: small.map((i) => local(i.url)), durationS: 2 });
    const [smallResult, smallCpu] = await measured(() =>
      cannon({ ...run, label: '10 users', urls: small.map((i) => local(i.url)), durationS: options.durationS }),
    );

    const seed = await seedUsers({
      databaseUrl: stack.schema?.databaseUrl,
      dataDir: stack.server.dataDir,
      configId,
      templateAccountIds: await stack.accountIdsOf('user-0'),
      users: options.users,
      sampleSize: options.workingSet,
    });
    const sampleUrls = seed.sample.map((s) => `${stack.server.url}/mcp/i/${s.secret}`);
    // One pass over the working set first, each user once, measured on its own: every call of
    // it misses the caches. The comparison with the 10-user case is of steady states.
    const coldStart = monotonicUs();
    const [cold, coldCpu] = await measured(
      () => cannon({ ...run, label: 'first pass', urls: sampleUrls, durationS: 0, amount: sampleUrls.length }),
      'cold',
    );
    const largeStart = monotonicUs();
    const [large, largeCpu] = await measured(
      () => cannon({ ...run, label: `${options.users} users`, urls: sampleUrls, durationS: options.durationS }),
      'large',
    );
    const largeEnd = monotonicUs();

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
      small: smallResult,
      cold,
      large,
      ensure,
      authState,
      workingSet: seed.sample.length,
      cpuPerCall: { small: smallCpu, cold: coldCpu, large: largeCpu },
      ...(backendCpu.cold !== undefined && backendCpu.large !== undefined
        ? { backendCpuPerCall: { cold: backendCpu.cold, large: backendCpu.large } }
        : {}),
      windows: { cold: [coldStart, coldStart + Math.round(cold.durationS * 1e6)], large: [largeStart, largeEnd] },
    };
  } finally {
    await stack.stop();
  }
}
