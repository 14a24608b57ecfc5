import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Linux reports CPU times in clock ticks; 100 per second on every kernel this runs on. */
const TICKS_PER_SECOND = 100;

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  output(): string;
  /** Milliseconds from spawn until the ready line appeared. */
  readyMs: number;
  stop(): Promise<void>;
}

export { freePort } from '@switchboard/server';

/**
 * Which side of a split machine a process belongs to: the servers measured (Switchboard, the
 * bare servers), or the load side (the harness with its load generator, and the sandbox that
 * stands in for the provider).
 */
export type Side = 'server' | 'load';

/** The CPU list (taskset syntax) of each side while the cores are split; none otherwise. */
let split: Record<Side, string> | undefined;

/** What must be undone before the harness ends, should a signal end it early. */
const onStop = new Set<() => void>();

function stopBySignal(signal: NodeJS.Signals): void {
  process.off('SIGINT', stopBySignal);
  process.off('SIGTERM', stopBySignal);
  // Last registered first, as nested cleanups unwind: a server is stopped before its folder goes.
  for (const undo of [...onStop].reverse()) {
    try {
      undo();
    } catch {
      // Undo the rest regardless.
    }
  }
  onStop.clear();
  // With our listener gone, the signal's default action ends the process as it would have.
  process.kill(process.pid, signal);
}

/**
 * Registers `undo` (synchronous) to run if SIGINT or SIGTERM ends the harness before the
 * returned function is called; that function unregisters it. A run stopped with Ctrl+C, or a
 * signal to the harness alone, must not leave servers it started running or the database moved.
 */
export function untilStopped(undo: () => void): () => void {
  if (onStop.size === 0) {
    process.on('SIGINT', stopBySignal);
    process.on('SIGTERM', stopBySignal);
  }
  onStop.add(undo);
  return () => {
    if (!onStop.delete(undo) || onStop.size > 0) return;
    process.off('SIGINT', stopBySignal);
    process.off('SIGTERM', stopBySignal);
  };
}

/**
 * A new folder under the system's temporary directory: `remove` deletes it, and so does a signal
 * that ends the harness before that.
 */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const removeNow = () => rmSync(path, { recursive: true, force: true });
  const forget = untilStopped(removeNow);
  return {
    path,
    remove() {
      forget();
      removeNow();
    },
  };
}

export function setAffinity(pid: number, cpus: string): void {
  // -a: every thread of the process (libuv's pool, V8's helpers); threads made later inherit it.
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** The CPUs a process may run on, in taskset's list syntax ("0-3", "0,2"), as numbers. */
export function affinityOf(pid: number): number[] {
  const out = execFileSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return [];
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Runs `work` with the cores split as a separate load box would split machines: the harness
 * (the load generator runs in it) and every load-side child on the first CPU this process may
 * use, every server started meanwhile on the others. Servers then compete with each other's and
 * their own threads only, not with the client driving them, so a throughput ratio says what a
 * CPU ratio says. With one CPU, or where taskset is missing or not allowed, `work` runs as it
 * is. The harness gets its own CPUs back afterwards.
 */
export async function onSplitCores<T>(work: () => Promise<T>): Promise<T> {
  if (split) return work();
  let cpus: number[];
  try {
    cpus = affinityOf(process.pid);
  } catch {
    return work();
  }
  const [load, ...servers] = cpus;
  if (load === undefined || !servers.length) return work();
  try {
    setAffinity(process.pid, String(load));
  } catch {
    return work();
  }
  split = { load: String(load), server: servers.join(',') };
  try {
    return await work();
  } finally {
    split = undefined;
    setAffinity(process.pid, cpus.join(','));
  }
}

/** The split in effect, for the report: undefined when the cores are shared. */
export function coreSplit(): Readonly<Record<Side, string>> | undefined {
  return split;
}

/**
 * Spawns `node args…` and resolves once stdout shows `readyLine`; the clock starts at spawn.
 * Inside `onSplitCores` the child runs on its side's cores (`taskset` execs node in place, so
 * the pid is node's). `wrapper` runs node under another program that keeps its pid (valgrind);
 * a wrapped child ignores the split.
 */
export async function startChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyLine: string,
  options: { timeoutMs?: number; side?: Side; wrapper?: string[] } = {},
): Promise<Child> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = performance.now();
  const cpus = split?.[options.side ?? 'server'];
  const [wrapper, ...wrapperArgs] = options.wrapper ?? [];
  const [command, commandArgs] = wrapper
    ? [wrapper, [...wrapperArgs, process.execPath, ...args]]
    : cpus
      ? ['taskset', ['-c', cpus, process.execPath, ...args]]
      : [process.execPath, args];
  const child = spawn(command, commandArgs, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    // Keep the tail only: a long soak must not grow the harness's memory.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // SIGKILL: the harness is about to end and will not wait for a graceful stop.
  const forget = untilStopped(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      forget();
      resolve();
    }),
  );
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(performance.now() - started);
      }
    };
    child.stdout?.on('data', check);
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready:\n${output}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  // A server that dies mid-run shows up in the harness as a refused connection; say why here.
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(`\n${name} exited (${signal ?? code}) while in use; its last output:\n${output}\n`);
  });
  return {
    name,
    pid,
    process: child,
    output: () => output,
    readyMs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * /proc/<pid>/stat: the command name, and the fields after it, counted from the state (the name
 * may contain spaces and parentheses: the fields after its last closing parenthesis are fixed).
 */
function readStat(pid: number | 'self' | `${number}/task/${number}`): { name: string; fields: string[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** Two CPU-time fields of /proc/<pid>/stat, summed, in milliseconds. */
function statCpuMs(pid: number | 'self' | `${number}/task/${number}`, first: number): number {
  const { fields } = readStat(pid);
  return ((Number(fields[first]) + Number(fields[first + 1])) * 1000) / TICKS_PER_SECOND;
}

/**
 * A process's command name and parent, and whether it still runs; undefined once it is gone. A
 * zombie does not run: a process that ends before it reaps its child leaves it to whoever
 * inherits it, and a container's init (a shell, say) need not reap it.
 */
export function processState(pid: number): { name: string; parent: number; running: boolean } | undefined {
  try {
    const { name, fields } = readStat(pid);
    return { name, parent: Number(fields[1]), running: fields[0] !== 'Z' };
  } catch {
    return undefined;
  }
}

/** User + system CPU milliseconds a process has used so far (utime + stime of /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  try {
    return statCpuMs(pid, 11);
  } catch {
    return 0;
  }
}

/**
 * The same for the process's main thread alone (/proc/<pid>/task/<pid>/stat): the event loop's
 * share, apart from the GC helpers, the compiler, libuv's pool and worker threads.
 */
export function mainThreadCpuMs(pid: number): number {
  try {
    return statCpuMs(`${pid}/task/${pid}`, 11);
  } catch {
    return 0;
  }
}

/** Resident set size in MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * CPU ms of this process's children that have exited and been waited for (cutime + cstime of
 * /proc/self/stat): a load generator run as a child (h2load) counts here once it has exited,
 * while the servers, still running, do not.
 */
export function exitedChildrenCpuMs(): number {
  return statCpuMs('self', 13);
}
