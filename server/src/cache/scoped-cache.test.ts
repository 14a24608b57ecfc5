import { describe, expect, it } from 'vitest';
import { manualClock } from '../../test/support/clock.js';
import { AGE_SPREAD, DEFAULT_MAX_AGE_MS, ScopedCache } from './scoped-cache.js';

describe('ScopedCache ages', () => {
  /** 1,000 entries stored in the same millisecond, and how many of them a later read still finds. */
  function storedTogether() {
    const clock = manualClock(1_000_000);
    const cache = new ScopedCache<number, string>(10_000, clock);
    const keys = Array.from({ length: 1_000 }, (_, i) => i);
    for (const key of keys) cache.set(key, `value ${key}`, cache.generation);
    const started = clock.now();
    /** Entries still served at `ms` after they were stored (a read drops an expired one, so reads only move forward). */
    const alive = (ms: number) => {
      clock.advance(started + ms - clock.now());
      return keys.filter((key) => cache.get(key) !== undefined).length;
    };
    return { alive };
  }

  it('serves every entry until (1 − spread) of the max age and none from the max age on', () => {
    const { alive } = storedTogether();
    expect(alive(DEFAULT_MAX_AGE_MS * (1 - AGE_SPREAD) - 1)).toBe(1_000);
    expect(alive(DEFAULT_MAX_AGE_MS)).toBe(0);
  });

  it('spreads the expiry of entries stored together over the last quarter of the max age', () => {
    const { alive } = storedTogether();
    const youngest = DEFAULT_MAX_AGE_MS * (1 - AGE_SPREAD);
    const quarter = (DEFAULT_MAX_AGE_MS - youngest) / 4;
    // Uniform over the spread: about 750, 500 and 250 left at its quarters (bounds far outside chance).
    const left = [alive(youngest + quarter), alive(youngest + 2 * quarter), alive(youngest + 3 * quarter)];
    expect(left[0]).toBeGreaterThan(650);
    expect(left[0]).toBeLessThan(850);
    expect(left[1]).toBeGreaterThan(400);
    expect(left[1]).toBeLessThan(600);
    expect(left[2]).toBeGreaterThan(150);
    expect(left[2]).toBeLessThan(350);
  });

  it('keeps no value loaded before a clear, and serves one loaded after it', () => {
    const cache = new ScopedCache<string, string>(10, manualClock());
    const before = cache.generation;
    cache.clear();
    cache.set('a', 'stale', before);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 'fresh', cache.generation);
    expect(cache.get('a')).toBe('fresh');
  });
});

describe('ScopedCache sweeps', () => {
  const MAX_AGE = 60_000;
  const filled = (keys: number[], clock = manualClock(1_000_000)) => {
    const cache = new ScopedCache<number, string>(10_000, clock, MAX_AGE);
    for (const key of keys) cache.set(key, `value ${key}`, cache.generation);
    return { cache, clock };
  };
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  it('drops the entries past their age that nobody read again, and keeps every live one', () => {
    const { cache, clock } = filled(range(0, 1_000));
    clock.advance(MAX_AGE / 2);
    for (const key of range(1_000, 1_500)) cache.set(key, `value ${key}`, cache.generation);
    clock.advance(MAX_AGE / 2);
    expect(cache.sweep()).toBe(1_000);
    expect(cache.size).toBe(500);
    expect(range(1_000, 1_500).every((key) => cache.get(key) === `value ${key}`)).toBe(true);
    expect(cache.sweep()).toBe(0);
  });

  it('moves an entry stored again behind the others, so a sweep does not stop at it', () => {
    const { cache, clock } = filled([1, 2, 3]);
    clock.advance(MAX_AGE / 2);
    cache.set(1, 'stored again', cache.generation);
    clock.advance(MAX_AGE / 2);
    expect(cache.sweep()).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.get(1)).toBe('stored again');
  });

  it('drops at most its limit in one sweep, and the rest in the next', () => {
    const { cache, clock } = filled(range(0, 10));
    clock.advance(MAX_AGE);
    expect(cache.sweep(3)).toBe(3);
    expect(cache.size).toBe(7);
    expect(cache.sweep()).toBe(7);
    expect(cache.size).toBe(0);
  });
});
