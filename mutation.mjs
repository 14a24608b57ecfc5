// Runs Stryker once per security-critical module (see stryker.config.mjs):
// `node mutation.mjs [module ...] [stryker flags, e.g. --force to ignore the incremental state]`.
import { spawnSync } from 'node:child_process';
import { MODULES } from './stryker.config.mjs';

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('--'));
const modules = args.filter((arg) => !arg.startsWith('--'));
const names = modules.length ? modules : Object.keys(MODULES);
let failed = 0;
for (const name of names) {
  console.log(`\n== mutation testing: ${name}`);
  const run = spawnSync('npx', ['stryker', 'run', ...flags], {
    stdio: 'inherit',
    env: { ...process.env, MUTATION_MODULE: name },
  });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
