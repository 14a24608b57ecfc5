import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const summary = fileURLToPath(new URL('../dist/profile-summary.js', import.meta.url));

describe('profile-summary', () => {
  const root = mkdtempSync(join(tmpdir(), 'profile-summary-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('names the package and source file a bundled frame came from, through the bundle’s source map', async () => {
    // A package's busy function and the server's own caller, bundled into one file as the
    // server's build bundles dist/cli.js (esbuild, linked source map, no sources content).
    mkdirSync(join(root, 'node_modules/busy-package'), { recursive: true });
    writeFileSync(join(root, 'node_modules/busy-package/package.json'), '{"name":"busy-package","main":"index.js"}');
    writeFileSync(
      join(root, 'node_modules/busy-package/index.js'),
      [
        'export function spin(ms) {',
        '  const until = Date.now() + ms;',
        '  let n = 0;',
        '  while (Date.now() < until) n += Math.sqrt(n + 1);',
        '  return n;',
        '}',
      ].join('\n'),
    );
    mkdirSync(join(root, 'server/src'), { recursive: true });
    writeFileSync(
      join(root, 'server/src/main.ts'),
      "import { spin } from 'busy-package';\nexport const answer = spin(400);\nconsole.log(answer > 0);\n",
    );
    await build({
      absWorkingDir: join(root, 'server'),
      entryPoints: ['src/main.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: 'dist/cli.js',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
    });
    const profiles = join(root, 'profiles');
    const ran = spawnSync(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${profiles}`, join(root, 'server/dist/cli.js')],
      {
        encoding: 'utf8',
      },
    );
    expect(ran.status).toBe(0);
    const [profile] = readdirSync(profiles);
    const read = spawnSync(process.execPath, [summary, join(profiles, profile ?? ''), '5'], { encoding: 'utf8' });
    expect(read.status).toBe(0);
    const [byPlace = '', byFunction = ''] = read.stdout.split('self time by function');
    // Without the map, spin's frame is server/cli.js, at the bundle's line.
    expect(byPlace.match(/^\s*[\d.]+%\s+(.+)$/m)?.[1]).toBe('busy-package');
    expect(byFunction.match(/^\s*[\d.]+%\s+(.+)$/m)?.[1]).toBe('spin busy-package:1');
  });

  it('compares two windows of a profile per call: what the first spends more on, inclusive of callees and by itself', () => {
    // Two phases of one process, each a window: the second runs `extra` (called by `outer`)
    // beside the `steady` work both run. The second has two calls, the first one.
    const program = join(root, 'phases.js');
    writeFileSync(
      program,
      [
        'const now = () => Number(process.hrtime.bigint() / 1000n);',
        'function spinFor(ms) { const until = Date.now() + ms; let n = 0; while (Date.now() < until) n += Math.sqrt(n + 1); return n; }',
        'function steady(ms) { return spinFor(ms); }',
        'function extra(ms) { return spinFor(ms); }',
        'function outer(ms) { return extra(ms); }',
        'const a0 = now(); steady(300); const a1 = now();',
        'const b0 = now(); steady(300); outer(600); const b1 = now();',
        'console.log(JSON.stringify({ first: [a0, a1].join(","), second: [b0, b1].join(",") }));',
      ].join('\n'),
    );
    const profiles = join(root, 'phase-profiles');
    const ran = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, program], {
      encoding: 'utf8',
    });
    expect(ran.status).toBe(0);
    const windows = JSON.parse(ran.stdout) as { first: string; second: string };
    const [profile] = readdirSync(profiles);
    const read = spawnSync(
      process.execPath,
      [
        summary,
        join(profiles, profile ?? ''),
        '50',
        ...['--window', windows.second, '--calls', '2', '--against', windows.first, '--against-calls', '1'],
      ],
      { encoding: 'utf8' },
    );
    expect(read.status).toBe(0);
    const [inclusive = '', self = ''] = read.stdout.split('self time by function');
    // µs per call: difference, the second window's, the first's.
    const row = (table: string, fn: string) => {
      const match = new RegExp(`^\\s*([+-][\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+${fn} phases\\.js:\\d+$`, 'm').exec(
        table,
      );
      if (!match) throw new Error(`no row for ${fn} in:\n${table}`);
      return { difference: Number(match[1]), window: Number(match[2]), against: Number(match[3]) };
    };
    // outer: 600 ms of its callee over 2 calls in the second window, none in the first.
    const outer = row(inclusive, 'outer');
    expect(outer.against).toBe(0);
    expect(outer.window).toBeGreaterThan(200_000);
    expect(outer.window).toBeLessThan(400_000);
    expect(outer.difference).toBe(outer.window);
    // By itself outer does nothing: its callee's time is extra's (through spinFor).
    expect(self).not.toMatch(/ outer phases\.js/);
    expect(row(inclusive, 'extra').window).toBeCloseTo(outer.window, -4);
    // steady: 300 ms over 2 calls against 300 ms over 1, about half as much per call.
    const steady = row(inclusive, 'steady');
    expect(steady.against).toBeGreaterThan(200_000);
    expect(steady.window / steady.against).toBeGreaterThan(0.3);
    expect(steady.window / steady.against).toBeLessThan(0.7);
  });
});
