import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from './support/database.js';
import { CLI, startServerProcess } from './support/process.js';
import { tempDir } from './support/temp-dir.js';

const KEY_A = `ka:${Buffer.alloc(32, 1).toString('base64')}`;
const KEY_B = `kb:${Buffer.alloc(32, 2).toString('base64')}`;

/** `switchboard start` with exactly this environment; it must exit at once. */
function start(env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'start'], {
    env: { PATH: process.env.PATH ?? '', SWITCHBOARD_DATA_DIR: tempDir('sb-err-'), ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr };
}

/** One `error:` line and one `hint:` line, no stack trace. */
function expectOneLine(stderr: string, message: RegExp, hint: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^hint: /);
  expect(lines[1]).toMatch(hint);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('startup errors an operator can act on: one line each, with the fix', () => {
  let taken: Server;
  let takenPort = 0;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('port in use', () => {
    const result = start({ PORT: String(takenPort) });
    expect(result.status).toBe(1);
    expectOneLine(result.stderr, new RegExp(`port ${takenPort} on 127.0.0.1 is already in use`), /--port/);
  });

  it('a HOST that is no address of this machine', () => {
    const result = start({ PORT: String(takenPort + 7), HOST: 'no-such-host.invalid' });
    expect(result.status).toBe(1);
    expectOneLine(result.stderr, /cannot listen on HOST no-such-host\.invalid/, /127\.0\.0\.1.*0\.0\.0\.0/);
  });

  it('an unreachable database', () => {
    const result = start({
      PORT: '0',
      DATABASE_URL: 'postgres://switchboard:secret-password@127.0.0.1:1/switchboard',
      SWITCHBOARD_ENCRYPTION_KEY: KEY_A,
    });
    expect(result.status).toBe(1);
    expectOneLine(
      result.stderr,
      /cannot reach PostgreSQL at 127\.0\.0\.1:1\/switchboard \(ECONNREFUSED\)/,
      /DATABASE_URL/,
    );
    expect(result.stderr).not.toContain('secret-password');
  });

  it('a database that refuses the user', () => {
    const url = new URL(TEST_POSTGRES_URL);
    url.username = 'no_such_switchboard_role';
    url.password = 'secret-password';
    const result = start({ PORT: '0', DATABASE_URL: url.toString(), SWITCHBOARD_ENCRYPTION_KEY: KEY_A });
    expect(result.status).toBe(1);
    expectOneLine(result.stderr, /refused user "no_such_switchboard_role"/, /user and password in DATABASE_URL/);
    expect(result.stderr).not.toContain('secret-password');
  });

  it('the wrong encryption key for the secrets already stored', async () => {
    const dataDir = tempDir('sb-key-');
    const first = await startServerProcess({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENCRYPTION_KEY: KEY_A });
    first.child.kill('SIGTERM');
    await first.exited;
    const result = start({ PORT: '0', SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENCRYPTION_KEY: KEY_B });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: the encryption key \(SWITCHBOARD_ENCRYPTION_KEY\) cannot decrypt/);
    expect(lines[0]).toContain('sealed with key "ka"');
    expect(lines[0]).toMatch(/SWITCHBOARD_ENCRYPTION_KEYS_OLD/);
  });
});
