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

  it('lets expired windows go within a tenth of a window, and keeps the live ones in the order they end', () => {
    let now = 0;
    const counter = new FixedWindowCounter({ points: 1, seconds: 10 }, () => now, 1_000);
    for (let i = 0; i < 500; i++) counter.hit(`ip:${i}`);
    now = 5_000;
    counter.hit('ip:late');
    // Past the first windows' end and the next sweep: only the late one is left besides the new.
    now = 11_000;
    counter.hit('ip:new');
    expect(counter.size).toBe(2);
    expect(counter.hit('ip:late').allowed).toBe(false);
  });

  it('evicts the window that ends first when every window is live, not one started again', () => {
    let now = 0;
    const counter = new FixedWindowCounter({ points: 1, seconds: 10 }, () => now, 3);
    counter.hit('a');
    now = 6_000;
    counter.hit('b');
    counter.hit('c');
    // a's window ended and starts again: it now ends last.
    now = 10_000;
    counter.hit('a');
    counter.hit('d');
    // b's window ends first and made room for d; a is still counted.
    expect(counter.size).toBe(3);
    expect(counter.hit('a').allowed).toBe(false);
    expect(counter.hit('b').allowed).toBe(true);
  });
});
