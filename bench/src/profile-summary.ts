import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * `node bench/dist/profile-summary.js <file.cpuprofile> [top] [callersOf] [--window fromUs,toUs]` — self time by
 * function and by package/file, from a profile written by `node --cpu-prof` (see `run.js --profile <dir>`). Frames
 * of the bundled server (dist/cli.js and its chunks) are read through the source maps beside them.
 *
 * With `--calls N --against fromUs,toUs --against-calls M`, two windows of one profile are compared per call
 * instead: each function's inclusive time (its own and its callees', counted once per sample however often it
 * recurs in the stack) and self time, in µs per call of each window, largest difference first. Given a scale
 * run's first pass against its loaded run (run.js --profile prints both windows and their calls), it says what
 * a user's first call costs that the user's later calls do not, and where.
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
  options: {
    window: { type: 'string' },
    calls: { type: 'string' },
    against: { type: 'string' },
    'against-calls': { type: 'string' },
  },
});
const [file, topArg, callersOf] = positionals;
if (!file)
  throw new Error(
    'usage: profile-summary <file.cpuprofile> [top] [function name whose callers to show] [--window fromUs,toUs] ' +
      '[--calls N --against fromUs,toUs --against-calls M]',
  );
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** Monotonic-clock stamps (µs) bounding the samples to read, e.g. one run of the scale section. */
type Window = { from: number; to: number } | undefined;
function windowOf(option: string | undefined): Window {
  if (option === undefined) return undefined;
  const [from, to] = option.split(',').map(Number);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new Error(`a window is fromUs,toUs, not "${option}"`);
  return { from: from as number, to: to as number };
}

/** µs of samples per node (its self time) within `window`, or over the whole profile. */
function selfTimes(window: Window): Map<number, number> {
  const times = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) return;
    times.set(id, (times.get(id) ?? 0) + delta);
  });
  return times;
}
const selfUs = selfTimes(windowOf(values.window));
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

/** The function a node ran, named by its original source: `name place:line`. */
const keys = new Map<number, string>();
function keyOf(node: ProfileNode): string {
  let key = keys.get(node.id);
  if (key === undefined) {
    const { url, lineNumber } = original(node.callFrame);
    key = `${node.callFrame.functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
    keys.set(node.id, key);
  }
  return key;
}

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

/** Self and inclusive µs per function of some samples' self times. */
function perFunction(times: Map<number, number>): { self: Map<string, number>; inclusive: Map<string, number> } {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of times) {
    const node = byId.get(id);
    if (!node) continue;
    const key = keyOf(node);
    self.set(key, (self.get(key) ?? 0) + us);
    const counted = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at);
      if (!frame) break;
      const name = keyOf(frame);
      if (counted.has(name)) continue;
      counted.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  return { self, inclusive };
}

/** Two windows' times per call, largest difference first. */
function compare(
  title: string,
  window: Map<string, number>,
  calls: number,
  other: Map<string, number>,
  otherCalls: number,
) {
  process.stdout.write(`\n${title}, µs per call: difference, --window, --against\n`);
  const rows = [...new Set([...window.keys(), ...other.keys()])].map((key) => {
    const mine = (window.get(key) ?? 0) / calls;
    const theirs = (other.get(key) ?? 0) / otherCalls;
    return { key, mine, theirs, difference: mine - theirs };
  });
  rows.sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference));
  for (const { key, mine, theirs, difference } of rows.slice(0, top)) {
    const sign = difference >= 0 ? '+' : '';
    process.stdout.write(
      `${`${sign}${difference.toFixed(1)}`.padStart(8)} ${mine.toFixed(1).padStart(8)} ${theirs.toFixed(1).padStart(8)}  ${key}\n`,
    );
  }
}

if (values.against !== undefined) {
  const calls = Number(values.calls);
  const otherCalls = Number(values['against-calls']);
  if (!(calls > 0) || !(otherCalls > 0)) throw new Error('--against needs --calls and --against-calls, each above 0');
  const mine = perFunction(selfUs);
  const theirs = perFunction(selfTimes(windowOf(values.against)));
  compare('inclusive time by function', mine.inclusive, calls, theirs.inclusive, otherCalls);
  compare('self time by function', mine.self, calls, theirs.self, otherCalls);
} else {
  const byPlace = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const place = where(original(node.callFrame).url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  print('self time by place', byPlace);
  print('self time by function', perFunction(selfUs).self);
}

if (callersOf) {
  // Self time of `callersOf`, attributed to its call chain (four frames up).
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
