import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import type { Layer } from './layers.js';

/** Every relative import of one file, resolved to a path relative to the root. */
export type ImportGraph = Map<string, string[]>;

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function isSourceFile(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts');
}

function listSourceFiles(root: string, dir = root): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...listSourceFiles(root, path));
    else if (isSourceFile(name)) files.push(toPosix(relative(root, path)));
  }
  return files;
}

/** `./x.js` → `x.ts`, `./x` → `x.ts` or `x/index.ts`; undefined when no such file exists. */
function resolveSpecifier(root: string, from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(js|ts)$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}/index.ts`]) {
    if (existsSync(join(root, candidate))) return candidate;
  }
  return undefined;
}

/**
 * Reads the imports of every non-test .ts file under `root` with the compiler's own
 * pre-processor, which sees static imports, type-only imports, `export … from` and dynamic
 * `import()` alike. Package imports are not part of the graph. A relative import that names
 * no file is returned as unresolved: the graph would otherwise be silently incomplete.
 */
export function readImportGraph(root: string): { graph: ImportGraph; unresolved: string[] } {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  for (const file of listSourceFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const targets = new Set<string>();
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      if (fileName.endsWith('.json')) continue;
      const target = resolveSpecifier(root, file, fileName);
      if (target === undefined) unresolved.push(`unresolved: ${file} imports ${fileName}`);
      else targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return { graph, unresolved };
}

/**
 * One cycle per strongly connected component (Tarjan), as the path from the component's
 * first file (alphabetically) back to itself along the shortest route.
 */
export function findCycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);

  return components
    .map((component) => {
      const inside = new Set(component);
      const start = component[0] as string;
      // Breadth-first from the start, inside the component, until an edge leads back to it.
      const previous = new Map<string, string>();
      const queue = [start];
      search: while (queue.length) {
        const node = queue.shift() as string;
        for (const next of graph.get(node) ?? []) {
          if (!inside.has(next) || previous.has(next)) continue;
          previous.set(next, node);
          if (next === start) break search;
          queue.push(next);
        }
      }
      const path = [start];
      for (let node = previous.get(start); node !== undefined && node !== start; node = previous.get(node)) {
        path.unshift(node);
      }
      path.unshift(start);
      return path;
    })
    .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

interface Placement {
  layer: Layer;
  rank: number;
  member: string;
}

function place(layers: Layer[], file: string): Placement | undefined {
  for (const [rank, layer] of layers.entries()) {
    for (const member of layer.members) {
      if (member.endsWith('/') ? file.startsWith(member) : file === member) return { layer, rank, member };
    }
  }
  return undefined;
}

/** Each import that breaks the layer rules, as one line naming both files and both layers. */
export function findLayerViolations(graph: ImportGraph, layers: Layer[]): string[] {
  const findings: string[] = [];
  for (const [file, imports] of graph) {
    const from = place(layers, file);
    if (!from) {
      findings.push(`unplaced: ${file} is in no layer`);
      continue;
    }
    for (const target of imports) {
      const to = place(layers, target);
      if (!to) continue; // reported as unplaced on its own
      const edge = `${file} (${from.layer.name}) imports ${target} (${to.layer.name})`;
      if (to.layer.apart && from.layer !== to.layer && !to.layer.apart.importedBy.includes(from.layer.name)) {
        findings.push(`apart: ${edge}`);
      } else if (to.rank > from.rank) {
        findings.push(`upward: ${edge}`);
      } else if (from.layer === to.layer && from.layer.isolated && from.member !== to.member) {
        findings.push(`sideways: ${edge}`);
      }
    }
  }
  return findings.sort();
}

/** Every finding for the tree under `root`: unresolved imports, cycles, layer violations. */
export function checkDependencies(root: string, layers: Layer[]): string[] {
  const { graph, unresolved } = readImportGraph(root);
  const cycles = findCycles(graph).map((path) => `cycle: ${path.join(' -> ')}`);
  return [...unresolved.sort(), ...cycles, ...findLayerViolations(graph, layers)];
}
