import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailableFor, TEST_POSTGRES_URL } from './support/database.js';
import { freePort } from './support/loopback.js';

/** The built server (npm test builds first), started the way `switchboard start` starts it. */
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * Packages a process loads only for what its configuration names, and connect-node, which
 * only a gRPC request the direct path leaves loads.
 */
const OPTIONAL = ['pg', 'better-sqlite3', 'ioredis', 'rate-limiter-flexible', '@connectrpc/connect-node'];

/**
 * Starts the built server in a process of its own with `vars`, and answers which of the
 * optional packages it had loaded once it served (waiting up to 5 s for `expected` of them):
 * CommonJS packages imported from ES modules are in the CommonJS loader's cache, by path; ES
 * modules are reported by a resolve hook registered before the server is imported.
 */
async function loadedBy(vars: Record<string, string>, expected: number): Promise<string[]> {
  const program = `
    import { createRequire, register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const modules = new Set();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (url) => modules.add(url));
    port1.unref();
    const hook = 'let port; export function initialize(data) { port = data.port; }' +
      ' export async function resolve(specifier, context, next) {' +
      ' const found = await next(specifier, context); port.postMessage(found.url); return found; }';
    register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
    const { startServer } = await import(${JSON.stringify(pathToFileURL(MAIN).href)});
    const running = await startServer(process.env);
    const names = ${JSON.stringify(OPTIONAL)};
    const loadedNow = () => {
      const paths = [...Object.keys(createRequire(import.meta.url).cache), ...modules];
      return names.filter((name) => paths.some((path) => path.includes('/node_modules/' + name + '/')));
    };
    // The Redis client is set up while the server starts serving (a counted request waits for
    // it): give it a moment, then say what is loaded.
    const expected = Number(process.env.EXPECT_LOADED);
    for (let waited = 0; loadedNow().length < expected && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const loaded = loadedNow();
    await running.stop();
    console.log(JSON.stringify(loaded));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
    env: { PATH: process.env.PATH ?? '', EXPECT_LOADED: String(expected), ...vars },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(0);
  return JSON.parse(output.trim().split('\n').pop() ?? '[]') as string[];
}

describe('optional drivers load only when configured', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const base = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-optional-drivers-'));
    dirs.push(dataDir);
    return {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SANDBOX_PORT: 'off',
      SWITCHBOARD_LOG_LEVEL: 'silent',
    };
  };

  it('SQLite without REDIS_URL loads neither pg nor the Redis client, nor connect-node before a gRPC request needs it', async () => {
    expect(await loadedBy(await base(), 1)).toEqual(['better-sqlite3']);
  });

  it.runIf(postgresAvailableFor('optional drivers on Postgres'))(
    'DATABASE_URL and REDIS_URL load pg and the Redis client, and not SQLite',
    async () => {
      const vars = await base();
      // A schema of its own, migrated and dropped by the test database's helper.
      const db = await createTestDatabase('postgres');
      try {
        const loaded = await loadedBy(
          {
            ...vars,
            DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${db.reopen.postgresSchema}`)}`,
            // DATABASE_URL means production mode, which needs a master key of its own.
            SWITCHBOARD_ENCRYPTION_KEY: `drivers1:${Buffer.alloc(32, 7).toString('base64')}`,
            REDIS_URL: 'redis://127.0.0.1:6379',
            SWITCHBOARD_REDIS_KEY_PREFIX: `sb-test-drivers-${process.pid}-${vars.PORT}:`,
          },
          3,
        );
        expect(loaded.sort()).toEqual(['ioredis', 'pg', 'rate-limiter-flexible']);
      } finally {
        await db.close();
      }
    },
  );
});
