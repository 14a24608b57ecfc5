import { describe, expect, it } from 'vitest';
import { OldestFirst } from './oldest-first.js';

/** A map with keys 0..n-1 inserted in order, and its evictor. */
const filled = (n: number) => {
  const map = new Map<number, string>();
  const oldest = new OldestFirst(map);
  for (let key = 0; key < n; key++) map.set(key, `v${key}`);
  return { map, oldest };
};

describe('OldestFirst', () => {
  it('evicts in insertion order across evictions, entries added meanwhile coming after the older ones', () => {
    const { map, oldest } = filled(3);
    expect(oldest.evict()).toBe(true);
    map.set(3, 'v3');
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual([2, 3]);
    expect(oldest.evict()).toBe(true);
    expect(oldest.evict()).toBe(true);
    expect(map.size).toBe(0);
    expect(oldest.evict()).toBe(false);
  });

  it('takes a key stored again (deleted and set) as new, and skips keys deleted by others', () => {
    const { map, oldest } = filled(4);
    map.delete(0);
    map.set(0, 'again');
    map.delete(2);
    oldest.evict();
    oldest.evict();
    expect([...map.keys()]).toEqual([0]);
  });

  it('starts over at the front once its walk has run out, and after the map was cleared', () => {
    const { map, oldest } = filled(2);
    oldest.evict();
    oldest.evict();
    expect(oldest.evict()).toBe(false);
    map.set(10, 'a');
    map.set(11, 'b');
    oldest.evict();
    expect([...map.keys()]).toEqual([11]);
    map.clear();
    map.set(20, 'c');
    map.set(21, 'd');
    oldest.evict();
    expect([...map.keys()]).toEqual([21]);
  });

  it('keeps a bounded map in insertion order through many evictions, as a fresh walk reads it', () => {
    const { map, oldest } = filled(1_000);
    for (let key = 1_000; key < 20_000; key++) {
      if (key % 7 === 0) {
        // A hit stored again moves to the back.
        const moved = key - 500;
        if (map.delete(moved)) map.set(moved, 'moved');
      }
      map.set(key, `v${key}`);
      if (map.size > 1_000) oldest.evict();
    }
    expect(map.size).toBe(1_000);
    const order = [...map.keys()];
    const fresh = new Map<number, string>(order.map((key) => [key, '']));
    const expected = new OldestFirst(fresh);
    // What this evictor removes next is what a fresh walk of the same map finds first.
    for (let i = 0; i < 10; i++) {
      const before = [...map.keys()][0];
      oldest.evict();
      expected.evict();
      expect(map.has(before as number)).toBe(false);
      expect([...map.keys()]).toEqual([...fresh.keys()]);
    }
  });
});
