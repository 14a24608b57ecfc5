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
  };
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
