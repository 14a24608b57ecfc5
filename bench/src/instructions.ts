import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_METRICS_TOKEN, type Engine, readMetrics } from './environment.js';
import { cannon, FETCH_MAILS_ERAS, type LoadResult } from './load.js';
import { benchInstances, median } from './overhead.js';
import { BenchSchema } from './postgres.js';
import { type Child, sleep, tempDir } from './proc.js';
import { lookupCounts } from './scale.js';
import { seedUsers } from './seed.js';
import {
  Admin,
  issueSandboxToken,
  type Launch,
  type Switchboard,
  startBareServer,
  startSandbox,
  startSwitchboard,
} from './stack.js';

/** Which servers the section counts; the bare one is the same-client baseline of the overhead section. */
export type CountedServer = 'bare, undici' | 'switchboard' | 'switchboard, baseline build';

export interface InstructionCount {
  era: string;
  server: CountedServer;
  /** Instructions the server process executed per call, every thread of it: the median over the windows. */
  perCall: number;
  /** Each window's instructions per call, in the order counted. */
  windows: number[];
  /** The main thread's share (JavaScript, and the GC work the main thread does itself): median over the windows. */
  mainThreadPerCall: number;
}

/** Whether valgrind's callgrind and its control script are on this machine's PATH. */
export function callgrindAvailable(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The event count of a callgrind dump: its `totals:` line (instructions, the only event counted). */
export function callgrindTotals(dump: string): number {
  const match = /^totals:\s+(\d+)/m.exec(dump);
  if (!match) throw new Error('the callgrind dump has no totals line');
  return Number(match[1]);
}

/**
 * Instructions per tools/call gmail_fetch_mails {max_results: 1}, counted by valgrind's
 * callgrind in each server process: a count that a shared machine's load does not move, as
 * req/s and CPU time (±10 % between runs of one build on a VM with steal time) are moved. Each
 * server runs under callgrind with instrumentation off, gets `warmUp` calls per era (the JIT
 * settles), then instrumentation is switched on for `counted` calls, off again, and the
 * counters dumped and read, `windows` times. Every thread is counted, and the main thread
 * (JavaScript, and the GC work it does itself) is also read apart.
 *
 * What a count does not say: a window that catches a full GC or a late optimizing compile
 * counts far more than its neighbours (the median of the windows leaves such a window out;
 * medians of two runs of one build differed by up to 8 %); cache misses and kernel time, which
 * CPU time includes, are not instructions; and under valgrind a call takes about a hundred
 * times longer, so work on a timer (write-behind flushes, polls) falls on fewer calls each and
 * counts more per call than it costs natively. SQLite only: a Postgres backend's work is
 * outside the process.
 */
export async function countInstructions(options: {
  eras: string[];
  warmUp: number;
  /** Counting windows per era and server, each of `counted` calls; the median is reported. */
  windows: number;
  counted: number;
  connections: number;
  /** `server/dist/cli.js` of another build, counted alike. */
  baselineCli?: string;
  log?: (line: string) => void;
}): Promise<InstructionCount[]> {
  const { path: dumps, remove: removeDumps } = tempDir('switchboard-callgrind-');
  const launch = (name: string) => callgrindLaunch(dumps, name);
  const sandbox = await startSandbox();
  const started: Child[] = [];
  const switchboards: Switchboard[] = [];
  const servers: { server: CountedServer; name: string; child: Child; urls: string[] }[] = [];
  try {
    const token = await issueSandboxToken(sandbox.url);
    const bare = await startBareServer(sandbox.url, token, 'undici', [], launch('bare'));
    started.push(bare);
    servers.push({ server: 'bare, undici', name: 'bare', child: bare, urls: [bare.url] });
    const builds: [CountedServer, string, string | undefined][] = [['switchboard', 'switchboard', undefined]];
    if (options.baselineCli) builds.push(['switchboard, baseline build', 'baseline', options.baselineCli]);
    for (const [server, name, cli] of builds) {
      const child = await startSwitchboard({ sandboxUrl: sandbox.url, cli, launch: launch(name) });
      started.push(child);
      switchboards.push(child);
      const urls = await benchInstances(child, Admin.fromDataDir(child.url, child.dataDir), 10);
      servers.push({ server, name, child, urls });
    }

    const counts: InstructionCount[] = [];
    for (const era of FETCH_MAILS_ERAS.filter((e) => options.eras.includes(e.name))) {
      for (const { server, name, child, urls } of servers) {
        options.log?.(
          `  ${era.name}, ${server}: ${options.warmUp} calls to warm up, ${options.windows} windows of ${options.counted} counted`,
        );
        const load = { ...underValgrind(era, options.connections), urls };
        const warm = await cannon({ ...load, label: 'warm-up', amount: options.warmUp });
        if (warm.failures) throw new Error(`${server} failed ${warm.failures} of its warm-up calls`);
        const perCall: number[] = [];
        const mainPerCall: number[] = [];
        for (let window = 0; window < options.windows; window++) {
          const counted = await countWindow(dumps, name, child, options.counted, () =>
            cannon({ ...load, label: 'counted', amount: options.counted }),
          );
          perCall.push(counted.perCall);
          mainPerCall.push(counted.mainThreadPerCall);
        }
        counts.push({
          era: era.name,
          server,
          perCall: median(perCall),
          windows: perCall,
          mainThreadPerCall: median(mainPerCall),
        });
      }
    }
    return counts;
  } finally {
    for (const child of started) await child.stop();
    for (const switchboard of switchboards) switchboard.removeDataDir();
    await sandbox.stop();
    removeDumps();
  }
}

export interface ColdInstructionCount {
  era: string;
  engine: Engine;
  /** Instructions per first call of a user (instance, accounts and token not cached): median over the windows. */
  coldPerCall: number;
  coldWindows: number[];
  /** Instructions per call of the same users right after (everything cached): median over the windows. */
  warmPerCall: number;
  warmWindows: number[];
  /** The main thread's share of a cold and of a warm call (medians). */
  coldMainThreadPerCall: number;
  warmMainThreadPerCall: number;
  /** Instances looked up per lookup query in the first-call windows (all windows together). */
  digestsPerLookup: number;
}

/**
 * What a user's first call costs Switchboard over its next ones, in instructions: the scale
 * section's first pass / loaded ratio, counted instead of timed, so that a shared machine's
 * speed (which moved that ratio by ±0.2 between runs of one build) does not enter it.
 *
 * One Switchboard on `engine` under callgrind; `coldWarmUp + windows × counted` users are
 * bulk-loaded as in the scale section (an instance and an ACTIVE account each, tokens encrypted per row). After `warmUp`
 * calls of one user, and the first and second calls of `coldWarmUp` seeded users (so the cold
 * path's code is compiled too), each window counts the first calls of `counted` users that no
 * call has touched, then the second calls of the same users. Each count runs on for
 * `settleMs` after the last answer and then until the write-behind queues are empty, so the
 * write-behind work of the window's calls (the `last_used_at` marks, written ~1 s after a
 * first call, and the audit rows) falls in it and not in the next one.
 */
export async function countColdInstructions(options: {
  era: string;
  engine: Engine;
  warmUp: number;
  coldWarmUp: number;
  windows: number;
  counted: number;
  connections: number;
  settleMs?: number;
  /** `server/dist/cli.js` of another build (bench --baseline); this checkout's by default. */
  cli?: string;
  log?: (line: string) => void;
}): Promise<ColdInstructionCount> {
  const era = FETCH_MAILS_ERAS.find((e) => e.name === options.era);
  if (!era) throw new Error(`unknown era ${options.era}`);
  const settleMs = options.settleMs ?? 2_000;
  const { path: dumps, remove: removeDumps } = tempDir('switchboard-callgrind-');
  const sandbox = await startSandbox();
  const schema = options.engine === 'postgres' ? await BenchSchema.create('cold') : undefined;
  let child: Switchboard | undefined;
  try {
    child = await startSwitchboard({
      sandboxUrl: sandbox.url,
      databaseUrl: schema?.databaseUrl,
      cli: options.cli,
      launch: callgrindLaunch(dumps, 'cold'),
      // To read how many first calls shared a lookup query, between the counted windows.
      env: { SWITCHBOARD_METRICS_TOKEN: BENCH_METRICS_TOKEN },
    });
    const server = child;
    const admin = await Admin.forServer(server, schema?.databaseUrl);
    await admin.createConnection('MY_GMAIL', 'gmail');
    const configId = await admin.createConfig('cold', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    const template = await admin.ensureInstance('cold', 'template-user');
    await admin.connectAll(template.id);
    const { connected_accounts } = await admin.must<{ connected_accounts: { id: string }[] }>(
      'GET',
      '/api/v1/connected_accounts?identifier=template-user',
    );
    const users = options.coldWarmUp + options.windows * options.counted;
    const seeded = await seedUsers({
      databaseUrl: schema?.databaseUrl,
      dataDir: server.dataDir,
      configId,
      templateAccountIds: connected_accounts.map((account) => account.id),
      users,
      sampleSize: users,
    });
    const urls = seeded.sample.map((s) => `${server.url}/mcp/i/${s.secret}`);
    if (urls.length < users) throw new Error(`seeded ${urls.length} users, ${users} wanted`);
    const load = underValgrind(era, options.connections);
    const pass = (label: string, set: string[]) => async () => {
      const result = await cannon({ ...load, label, urls: set, amount: set.length });
      await sleep(settleMs);
      await writeBehindDrained(server.url);
      return result;
    };
    options.log?.(
      `  ${era.name}: ${options.warmUp} calls of one user and ${options.coldWarmUp} users' first two calls to warm up, then ${options.windows} windows of ${options.counted} users' first and second calls`,
    );
    const local = template.url.replace(/^http:\/\/[^/]+/, server.url);
    const warm = await cannon({ ...load, label: 'warm-up', urls: [local], amount: options.warmUp });
    const coldWarm = urls.slice(0, options.coldWarmUp);
    const warmed = [await pass('cold warm-up', coldWarm)(), await pass('cold warm-up, again', coldWarm)()];
    for (const result of [warm, ...warmed])
      if (result.failures) throw new Error(`${result.failures} of the ${result.label} calls failed`);
    const cold: { perCall: number; mainThreadPerCall: number }[] = [];
    const again: { perCall: number; mainThreadPerCall: number }[] = [];
    const lookups = { queries: 0, keys: 0 };
    for (let window = 0; window < options.windows; window++) {
      const at = options.coldWarmUp + window * options.counted;
      const set = urls.slice(at, at + options.counted);
      // Read with instrumentation off, so the scrapes are not counted.
      const before = await lookupCounts(server.url);
      cold.push(await countWindow(dumps, 'cold', server, set.length, pass('first calls', set)));
      const after = await lookupCounts(server.url);
      lookups.queries += after.queries - before.queries;
      lookups.keys += after.keys - before.keys;
      again.push(await countWindow(dumps, 'cold', server, set.length, pass('second calls', set)));
    }
    return {
      era: era.name,
      engine: options.engine,
      digestsPerLookup: lookups.keys / Math.max(1, lookups.queries),
      coldPerCall: median(cold.map((c) => c.perCall)),
      coldWindows: cold.map((c) => c.perCall),
      warmPerCall: median(again.map((c) => c.perCall)),
      warmWindows: again.map((c) => c.perCall),
      coldMainThreadPerCall: median(cold.map((c) => c.mainThreadPerCall)),
      warmMainThreadPerCall: median(again.map((c) => c.mainThreadPerCall)),
    };
  } finally {
    await child?.stop();
    child?.removeDataDir();
    await sandbox.stop();
    await schema?.drop();
    removeDumps();
  }
}

/**
 * Waits until Switchboard's write-behind queues (audit rows, `last_used_at` marks) hold nothing,
 * then a little longer for the writes they handed off, which the gauge no longer counts. Under
 * valgrind a flush can outlast a fixed settle, and its work then lands in the next window (a
 * first-call window's marks counted as second calls' work). Called inside a window, the scrape
 * is counted too, one render of /metrics or more in every window, spread over its calls.
 */
async function writeBehindDrained(origin: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const { status, text } = await readMetrics(origin);
    const depths = [...text.matchAll(/^switchboard_write_behind_pending\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
    if (!depths.length) throw new Error(`/metrics has no switchboard_write_behind_pending (HTTP ${status})`);
    // Once empty, as long again for the writes already handed off.
    await sleep(500);
    if (depths.every((depth) => depth === 0)) return;
  }
  throw new Error('the write-behind queues did not drain within a minute');
}

/**
 * The load of a counting run: one era's tools/call, passes of a given number of calls, and a
 * minute for an answer (autocannon's 10 s default failed calls of a server under valgrind, ~100×
 * slower, while another job shared the machine).
 */
function underValgrind(era: (typeof FETCH_MAILS_ERAS)[number], connections: number) {
  return { body: era.body, headers: era.headers, connections, durationS: 0, timeoutS: 60 };
}

/** How a server runs under callgrind: instrumentation off until switched on, a dump per thread into `dumps`. */
function callgrindLaunch(dumps: string, name: string): Launch {
  return {
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      // A dump per thread (`name.pid.N-TT`, the main thread is 01): the main thread is read apart.
      '--separate-threads=yes',
      `--callgrind-out-file=${join(dumps, name)}.%p`,
    ],
    // Under valgrind node starts tens of times slower than it runs natively.
    timeoutMs: 300_000,
  };
}

/**
 * One counting window: instrumentation on, `run` (which must answer `calls` calls, none
 * failed), instrumentation off and the counters dumped; instructions per call of every thread
 * and of the main thread.
 */
async function countWindow(
  dumps: string,
  name: string,
  child: Child,
  calls: number,
  run: () => Promise<LoadResult>,
): Promise<{ perCall: number; mainThreadPerCall: number }> {
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  const before = dumpsOf(dumps, name, child.pid);
  control('-i', 'on');
  const result = await run();
  control('-i', 'off');
  // A dump also zeroes the counters, so each window's dump holds its own calls only.
  control('-d');
  const written = dumpsOf(dumps, name, child.pid).filter((file) => !before.includes(file));
  const main = written.find((file) => file.endsWith('-01'));
  if (!main) throw new Error(`callgrind wrote no dump of the main thread for ${name}`);
  if (result.failures || result.requests !== calls)
    throw new Error(`${name} answered ${result.requests} of ${calls} counted calls, ${result.failures} failed`);
  const totalOf = (file: string) => callgrindTotals(readFileSync(join(dumps, file), 'utf8'));
  return {
    perCall: written.reduce((sum, file) => sum + totalOf(file), 0) / calls,
    mainThreadPerCall: totalOf(main) / calls,
  };
}

/** The numbered dumps (`name.pid.N-TT`, one a thread) callgrind has written so far for one process. */
function dumpsOf(dir: string, name: string, pid: number): string[] {
  const prefix = `${name}.${pid}.`;
  return readdirSync(dir).filter((file) => file.startsWith(prefix));
}
