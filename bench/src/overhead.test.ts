import { describe, expect, it } from 'vitest';
import type { LoadResult } from './load.js';
import { paired, quantile, type Round } from './overhead.js';

const round = (cpuPerCall: number, rps = 1000, p99 = 10): Round => ({
  result: {
    rps,
    p99,
    p50: 5,
    requests: rps * 2,
    failures: 0,
    durationS: 2,
    label: 'tools/call',
    connections: 10,
  } satisfies LoadResult,
  cpuPerCall,
  sandboxCpuPerCall: 0,
  clientCpuPerCall: 0,
});

describe('overhead pairing', () => {
  it('reads added CPU from per-round ratios, so a drifting machine speed cancels out', () => {
    // The machine runs at 1x, 1.6x, 0.8x, 1.3x, 1x the cost across rounds; Switchboard always costs 1.2x the other.
    const speeds = [1, 1.6, 0.8, 1.3, 1];
    const other = speeds.map((s) => round(0.8 * s));
    const own = speeds.map((s) => round(0.96 * s));
    const versus = paired(own, other);
    // The other server's median CPU per call is 0.8; 20 % of it.
    expect(versus.addedCpu).toBeCloseTo(0.16, 6);
    expect(versus.addedCpuSpread[0]).toBeCloseTo(0.16, 6);
    expect(versus.addedCpuSpread[1]).toBeCloseTo(0.16, 6);
  });

  it('reports the spread of the per-round figures', () => {
    const other = [1, 1, 1, 1, 1].map((c) => round(c));
    const own = [1.1, 1.2, 1.3, 1.4, 1.5].map((c) => round(c));
    const versus = paired(own, other);
    expect(versus.addedCpu).toBeCloseTo(0.3, 6);
    expect(versus.addedCpuSpread[0]).toBeCloseTo(0.2, 6);
    expect(versus.addedCpuSpread[1]).toBeCloseTo(0.4, 6);
  });

  it('pairs throughput and p99 within each round', () => {
    const other = [round(1, 1000, 10), round(1, 500, 30)];
    const own = [round(1, 900, 12), round(1, 450, 31)];
    const versus = paired(own, other);
    expect(versus.ratio).toBeCloseTo(0.9, 6);
    expect(versus.addedP99).toBeCloseTo(1.5, 6);
  });

  it('interpolates quantiles between neighbours', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBeCloseTo(2.5, 6);
    expect(quantile([10], 0.25)).toBe(10);
    expect(quantile([], 0.75)).toBe(0);
  });
});
