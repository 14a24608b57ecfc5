// `npm run build` (after tsc): dist/cli.js, the entry every start runs, as one bundle of
// src/cli.ts and everything it imports. Unbundled, a start loaded about 1,170 files (kysely
// alone is 265): resolving, reading and linking them cost more than half of spawn → ready.
// Each command stays its own chunk, loaded on use as before. tsc still builds dist/ for the
// package's exports (dist/index.js), the sandbox's own entry and the bench.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const server = fileURLToPath(new URL('.', import.meta.url));
const CHUNKS = 'cli-chunks';
rmSync(new URL(`dist/${CHUNKS}/`, import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: server,
  entryPoints: { cli: 'src/cli.ts' },
  tsconfig: 'tsconfig.build.json',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: `${CHUNKS}/[name]-[hash]`,
  // A native addon, and pg's optional native driver (required only when asked for).
  external: ['better-sqlite3', 'pg-native'],
  // CommonJS packages in the bundle call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  // No keepNames: it wraps each named function in a call that sets its name, and a closure made
  // per request paid that per request (bench, same rounds as the unbundled build: 3-5% fewer calls
  // a second with it, none without). Without it, two packages' classes of one name are told apart
  // by a suffix (pg's Pool is Pool2), which shows only in a constructor's .name: nothing here
  // reads it, and the one package that compares such names (rate-limiter-flexible, for a pg Pool
  // or a MySQL Connection) is used here with Redis only, whose classes keep theirs.
  // Stack traces name the bundle's lines; NODE_OPTIONS=--enable-source-maps maps them back to src/.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
