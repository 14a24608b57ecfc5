import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';

export function machineInfo() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    ramGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    /** The 1-minute load average when the run started: above the core count, other work shared the cores. */
    loadAtStart: loadavg()[0] ?? 0,
    /** speedProbe() when the run started (ms). */
    probeAtStart: speedProbe(),
  };
}

/**
 * A fixed piece of single-threaded work of the kinds a JS server's calls are made of (objects
 * built and dropped, JSON both ways, strings, SHA-256): its digest is the same on every
 * machine, its time says how fast this machine runs JS now.
 */
export function probeWork(rounds: number): string {
  const hash = createHash('sha256');
  let items: { id: number; name: string; tags: string[] }[] = [];
  for (let i = 0; i < rounds; i++) {
    items.push({ id: i, name: `item-${i}`, tags: ['a', 'b', String(i % 7)] });
    if (items.length > 64) {
      const kept = JSON.parse(JSON.stringify({ items: items.slice(32) })) as { items: typeof items };
      items = kept.items;
    }
    hash.update(`${i}:${items.length}:${items[0]?.name}`);
  }
  return hash.digest('hex');
}

export const PROBE_ROUNDS = 200_000;

/**
 * The machine's speed now: the best of `trials` runs of probeWork, in ms. The best run is the
 * one the fewest other processes interrupted, so it moves with the machine (a slower host, a
 * throttled VM) more than with a busy moment. Two reports' absolute rates, latencies and
 * start times compare only as far as their probes agree.
 */
export function speedProbe(trials = 5): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < trials; i++) {
    const started = performance.now();
    probeWork(PROBE_ROUNDS);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** Round trips per trial of loopbackProbe. */
export const LOOPBACK_TRIPS = 2_000;

/** A child process that echoes every TCP read back, printing its port when it listens. */
const ECHO_SERVER = `const server = require('node:net').createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (data) => socket.write(data));
}).listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;

/**
 * The machine's loopback speed now: µs per round trip of 100 bytes between this process and a
 * child echo server over TCP on 127.0.0.1, one at a time, best of `trials` runs of `trips`.
 * Each trip is two socket writes, two reads and two process wake-ups: the kernel work every
 * proxied call is made of, which a VM's host can slow down while speedProbe's JS does not
 * move (seen here: 46 µs per trip on a day the servers ran 2.3× slower, with speedProbe only
 * 1.3× slower). Two reports compare on both probes.
 */
export async function loopbackProbe(trials = 5, trips = LOOPBACK_TRIPS): Promise<number> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  let socket: Socket | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the echo server exited (${code}) before it listened`)));
      child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
    });
    const open = connect(port, '127.0.0.1');
    socket = open;
    open.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      open.once('connect', resolve);
      open.once('error', reject);
    });
    const message = Buffer.alloc(100, 1);
    const run = async (count: number) => {
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        // 100 bytes arrive in one read on loopback; a short read would only end the trip early.
        await new Promise((resolve) => {
          open.once('data', resolve);
          open.write(message);
        });
      }
      return performance.now() - started;
    };
    await run(Math.ceil(trips / 4));
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < trials; i++) best = Math.min(best, await run(trips));
    return (best * 1000) / trips;
  } finally {
    socket?.destroy();
    child.kill();
  }
}

export type Cell = string | number;

function show(value: Cell): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

export class Table {
  readonly rows: string[][] = [];

  constructor(
    readonly title: string,
    readonly columns: string[],
  ) {}

  add(...cells: Cell[]): void {
    this.rows.push(cells.map(show));
  }

  markdown(): string {
    const lines = [`| ${this.columns.join(' | ')} |`, `|${this.columns.map(() => '---').join('|')}|`];
    for (const row of this.rows) lines.push(`| ${row.join(' | ')} |`);
    return `### ${this.title}\n\n${lines.join('\n')}\n`;
  }

  text(): string {
    const widths = this.columns.map((c, i) => Math.max(c.length, ...this.rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
    return [
      `\n== ${this.title}`,
      line(this.columns),
      line(widths.map((w) => '-'.repeat(w))),
      ...this.rows.map(line),
    ].join('\n');
  }
}

/** "✓" or "✗" against a target, for the report's verdict columns. */
export const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

/**
 * A ratio and its verdict against a floor: two decimals, or as many more as it takes (up to six)
 * not to round it onto the other side of the floor ("0.80 NOT met" for 0.797 reads as a
 * contradiction).
 */
export function atLeast(value: number, floor: number): string {
  const met = value >= floor;
  let digits = 2;
  while (digits < 6 && Number(value.toFixed(digits)) >= floor !== met) digits++;
  return `${value.toFixed(digits)} ${verdict(met)}`;
}
