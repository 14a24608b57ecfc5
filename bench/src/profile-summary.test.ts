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
});
