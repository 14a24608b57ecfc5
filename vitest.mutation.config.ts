import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against one mutated module (`npm run test:mutation`): only those
 * named in MUTATION_TESTS (comma-separated), on SQLite (MUTATION_ENGINE=both: on both
 * engines, for modules with Postgres-only paths), so a module takes minutes.
 */
const tests = (process.env.MUTATION_TESTS ?? '').split(',').filter(Boolean);
const engine = process.env.MUTATION_ENGINE === 'both' ? {} : { SWITCHBOARD_TEST_ENGINE: 'sqlite' };

export default defineConfig({
  test: {
    include: tests.length ? tests : ['server/test/secrets.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    env: engine,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
