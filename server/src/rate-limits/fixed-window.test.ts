import { describe, expect, it } from 'vitest';
import { FixedWindowCounter } from './fixed-window.js';

describe('FixedWindowCounter', () => {
  it('allows `points` hits per window, then answers the wait until the window ends', () => {
    let now = 0;
    const counter = new FixedWindowCounter({ points: 2, seconds: 10 }, () => now);
    expect(counter.hit('a')).toEqual({ allowed: true });
    now = 4_000;
    expect(counter.hit('a')).toEqual({ allowed: true });
    expect(counter.hit('a')).toEqual({ allowed: false, retryAfterMs: 6_000 });
    now = 10_000;
    expect(counter.hit('a')).toEqual({ allowed: true });
  });

  it('never holds more than maxKeys windows under 100,000 distinct keys', () => {
    let now = 0;
    const counter = new FixedWindowCounter({ points: 1, seconds: 60 }, () => now, 1_000);
    for (let i = 0; i < 100_000; i++) {
      counter.hit(`ip:${i}`);
      now += 1;
    }
    expect(counter.size).toBeLessThanOrEqual(1_000);
    // The newest keys are still counted.
    expect(counter.hit('ip:99999').allowed).toBe(false);
  });
});
