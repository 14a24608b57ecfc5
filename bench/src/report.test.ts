import { describe, expect, it } from 'vitest';
import { atLeast, loopbackProbe, probeWork, speedProbe } from './report.js';

describe('speed probe', () => {
  it('does the same work on every machine and every run', () => {
    // A changed workload would make two reports' probes incomparable: change this digest only
    // with a note in the report that probes before and after differ.
    expect(probeWork(1000)).toBe('7ea73d6e4a86a9107a8ed396e28229f14cc69f8c771fd4f134c6932b22f7e204');
    expect(probeWork(1001)).not.toBe(probeWork(1000));
  });

  it('takes the best of its trials, in ms', () => {
    const ms = speedProbe(2);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(60_000);
  });

  it('times loopback round trips to a child echo server, in µs per trip', async () => {
    const us = await loopbackProbe(2, 200);
    expect(us).toBeGreaterThan(1);
    expect(us).toBeLessThan(100_000);
  });
});

describe('atLeast', () => {
  it('shows two decimals and the verdict', () => {
    expect(atLeast(0.8412, 0.8)).toBe('0.84 met');
    expect(atLeast(0.7, 0.8)).toBe('0.70 NOT met');
    expect(atLeast(0.8, 0.8)).toBe('0.80 met');
  });

  it('shows a third decimal where two would round onto the other side of the floor', () => {
    expect(atLeast(0.797, 0.8)).toBe('0.797 NOT met');
    expect(atLeast(0.8996, 0.9)).toBe('0.8996 NOT met');
    expect(atLeast(0.8951, 0.9)).toBe('0.895 NOT met');
  });
});
