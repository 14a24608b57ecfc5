// Runs Stryker once per security-critical module (see stryker.config.mjs): `node mutation.mjs [module ...]`.
import { spawnSync } from 'node:child_process';
import { MODULES } from './stryker.config.mjs';

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(MODULES);
let failed = 0;
for (const name of names) {
  console.log(`\n== mutation testing: ${name}`);
  const run = spawnSync('npx', ['stryker', 'run'], {
    stdio: 'inherit',
    env: { ...process.env, MUTATION_MODULE: name },
  });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
