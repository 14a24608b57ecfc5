import { describe, expect, it } from 'vitest';
import { callgrindTotals } from './instructions.js';

describe('callgrind dumps', () => {
  it('reads the totals line, not the summary line before it', () => {
    // The head and tail of a dump as `callgrind_control -d` writes it (valgrind 3.19).
    const dump = [
      '# callgrind format',
      'version: 1',
      'creator: callgrind-3.19.0',
      'pid: 5605',
      'cmd:  node s.js',
      'part: 1',
      'desc: Trigger: Client Request: dump',
      'positions: line',
      'events: Ir',
      'summary: 0',
      'fl=(1) ???',
      'fn=(1) 0x000000000010a2c0',
      '0 12',
      'totals: 79248203',
    ].join('\n');
    expect(callgrindTotals(dump)).toBe(79_248_203);
  });

  it('refuses a dump without totals instead of reading it as no work', () => {
    expect(() => callgrindTotals('# callgrind format\nevents: Ir\nsummary: 10\n')).toThrow(/no totals/);
  });
});
