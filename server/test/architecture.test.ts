import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDependencies } from './architecture/dependency-check.js';
import { LAYERS } from './architecture/layers.js';

const source = fileURLToPath(new URL('../src', import.meta.url));
const badTree = fileURLToPath(new URL('./fixtures/architecture-bad', import.meta.url));

describe('dependency direction', () => {
  it('server/src has no import cycle, no upward or sideways import, and no file outside a layer', () => {
    expect(checkDependencies(source, LAYERS)).toEqual([]);
  });

  it('reports a cycle, an upward import, an edge importing an edge, a reach into the sandbox and an unplaced file', () => {
    expect(checkDependencies(badTree, LAYERS)).toEqual([
      'cycle: connections/links.ts -> connections/names.ts -> connections/links.ts',
      'apart: connections/names.ts (domain) imports sandbox/emulator.ts (sandbox)',
      'sideways: api/routes.ts (edges) imports dashboard/page.ts (edges)',
      'unplaced: reports/weekly.ts is in no layer',
      'upward: errors.ts (base) imports api/routes.ts (edges)',
      'upward: sandbox/emulator.ts (sandbox) imports providers/catalog.ts (catalog)',
    ]);
  });
});
