import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannon, FETCH_MAILS_ERAS } from './load.js';
import { benchInstances, median } from './overhead.js';
import type { Child } from './proc.js';
import {
  Admin,
  issueSandboxToken,
  type Launch,
  removeDataDir,
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
  const dumps = mkdtempSync(join(tmpdir(), 'switchboard-callgrind-'));
  const launch = (name: string): Launch => ({
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
  });
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
        const load = { body: era.body, headers: era.headers, connections: options.connections, durationS: 0, urls };
        const warm = await cannon({ ...load, label: 'warm-up', amount: options.warmUp });
        if (warm.failures) throw new Error(`${server} failed ${warm.failures} of its warm-up calls`);
        const control = (...args: string[]) =>
          execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
        const perCall: number[] = [];
        const mainPerCall: number[] = [];
        for (let window = 0; window < options.windows; window++) {
          const before = dumpsOf(dumps, name, child.pid);
          control('-i', 'on');
          const run = await cannon({ ...load, label: 'counted', amount: options.counted });
          control('-i', 'off');
          // A dump also zeroes the counters, so each window's dump holds its own calls only.
          control('-d');
          const written = dumpsOf(dumps, name, child.pid).filter((file) => !before.includes(file));
          const main = written.find((file) => file.endsWith('-01'));
          if (!main) throw new Error(`callgrind wrote no dump of the main thread for ${server}`);
          if (run.failures || run.requests !== options.counted)
            throw new Error(
              `${server} answered ${run.requests} of ${options.counted} counted calls, ${run.failures} failed`,
            );
          const totalOf = (file: string) => callgrindTotals(readFileSync(join(dumps, file), 'utf8'));
          perCall.push(written.reduce((sum, file) => sum + totalOf(file), 0) / run.requests);
          mainPerCall.push(totalOf(main) / run.requests);
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
    for (const switchboard of switchboards) removeDataDir(switchboard);
    await sandbox.stop();
    rmSync(dumps, { recursive: true, force: true });
  }
}

/** The numbered dumps (`name.pid.N-TT`, one a thread) callgrind has written so far for one process. */
function dumpsOf(dir: string, name: string, pid: number): string[] {
  const prefix = `${name}.${pid}.`;
  return readdirSync(dir).filter((file) => file.startsWith(prefix));
}
