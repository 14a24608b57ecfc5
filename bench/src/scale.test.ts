import { describe, expect, it } from 'vitest';
import { workingSets } from './scale.js';

describe('the scale rounds’ working sets', () => {
  it('deal every sampled user into exactly one set, the sets within one user of each other in size', () => {
    const sample = Array.from({ length: 3_001 }, (_, i) => `user-${i}`);
    const sets = workingSets(sample, 3);
    expect(sets).toHaveLength(3);
    expect(sets.map((set) => set.length)).toEqual([1_001, 1_000, 1_000]);
    expect(new Set(sets.flat()).size).toBe(sample.length);
    expect(sets.flat().sort()).toEqual([...sample].sort());
  });

  it('spread each set over the whole sample, so no round reads only one end of the table', () => {
    const sample = Array.from({ length: 900 }, (_, i) => i);
    for (const set of workingSets(sample, 3)) {
      expect(Math.min(...set)).toBeLessThan(3);
      expect(Math.max(...set)).toBeGreaterThan(896);
    }
  });

  it('keep the whole sample together for one round', () => {
    expect(workingSets(['a', 'b', 'c'], 1)).toEqual([['a', 'b', 'c']]);
  });
});
