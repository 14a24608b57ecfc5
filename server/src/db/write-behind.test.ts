import { describe, expect, it } from 'vitest';
import { powerOfTwoChunks } from './write-behind.js';

describe('powerOfTwoChunks', () => {
  it('keeps every item once, in order, in power-of-two chunks of at most max, largest first', () => {
    for (let n = 0; n <= 600; n++) {
      const items = Array.from({ length: n }, (_, i) => i);
      const chunks = powerOfTwoChunks(items, 128);
      expect(chunks.flat()).toEqual(items);
      const sizes = chunks.map((c) => c.length);
      for (const size of sizes) {
        expect(size).toBeLessThanOrEqual(128);
        expect(Number.isInteger(Math.log2(size))).toBe(true);
      }
      expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    }
  });

  it('gives a batch of any size one of log2(max) + 1 statement shapes', () => {
    const shapes = new Set<number>();
    for (let n = 1; n <= 1000; n++)
      for (const chunk of powerOfTwoChunks(new Array(n).fill(0), 512)) shapes.add(chunk.length);
    expect([...shapes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  });
});
