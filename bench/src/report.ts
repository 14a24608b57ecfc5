import { createHash } from 'node:crypto';
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
