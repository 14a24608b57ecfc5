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
