import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * `node bench/dist/profile-summary.js <file.cpuprofile> [top] [--window fromUs,toUs]` — self time by function and
 * by package/file, from a profile written by `node --cpu-prof` (see `run.js --profile <dir>`). Frames of the
 * bundled server (dist/cli.js and its chunks) are read through the source maps beside them.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { window: { type: 'string' } },
});
const [file, topArg, callersOf] = positionals;
if (!file)
  throw new Error(
    'usage: profile-summary <file.cpuprofile> [top] [function name whose callers to show] [--window fromUs,toUs]',
  );
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// --window keeps the samples taken between two monotonic-clock stamps (µs), e.g. one run of
// the scale section (run.js --profile prints them).
const [from, to] = (values.window ?? '').split(',').map(Number);
const selfUs = new Map<number, number>();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (from !== undefined && to !== undefined && values.window && (at < from || at > to)) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const own = /\/(server|bench)\/(?:dist|src)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url ? url.replace(/^.*\//, '') : '(native)';
}

/**
 * The bundled server's frames name a chunk file; its source map (written beside it) gives the
 * file and line each came from, so places read as packages and source files again.
 */
const sourceMaps = new Map<string, SourceMap | undefined>();
function sourceMapOf(url: string): SourceMap | undefined {
  if (!sourceMaps.has(url)) {
    const mapFile = `${fileURLToPath(url)}.map`;
    sourceMaps.set(url, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined);
  }
  return sourceMaps.get(url);
}
function original(frame: ProfileNode['callFrame']): { url: string; lineNumber: number } {
  if (!frame.url.startsWith('file://')) return frame;
  const entry = sourceMapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !('originalSource' in entry)) return frame;
  return { url: new URL(entry.originalSource, frame.url).href, lineNumber: entry.originalLine };
}

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName } = node.callFrame;
  const { url, lineNumber } = original(node.callFrame);
  const key = `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const place = where(url);
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
print('self time by place', byPlace);
print('self time by function', byFunction);

if (callersOf) {
  // Self time of `callersOf`, attributed to its call chain (four frames up).
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const chains = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node?.callFrame.functionName !== callersOf) continue;
    const names: string[] = [];
    for (let at = parentOf.get(id); at !== undefined && names.length < 4; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) continue;
      const { url, lineNumber } = original(frame);
      names.push(`${frame.functionName || '(anonymous)'}@${where(url)}:${lineNumber + 1}`);
    }
    const key = names.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  print(`callers of ${callersOf}`, chains);
}
