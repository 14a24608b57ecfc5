import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/loopback.js';
import { CLI } from './support/process.js';

const workspace = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** The built CLI in a folder of its own, with no Switchboard variables from the test's environment. */
function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function emptyFolder(name: string): string {
  const dir = join(workspace, name);
  rmSync(dir, { recursive: true, force: true });
  return mkdtempSync(`${dir}-`);
}

const HELP_INVOCATIONS = [
  ['--help'],
  ['help'],
  ['help', 'clients'],
  ['start', '--help'],
  ['start', '--port', '1', '--help'],
  ['demo', '--help'],
  ['demo', '--auto-consent', '--help'],
  ['clients', '--help'],
  ['clients', 'list', '--help'],
  ['clients', 'create', '--help'],
  ['clients', 'create', '--name', 'x', '--help'],
  ['clients', 'revoke', 'cli_x', '--help'],
  ['clients', 'rotate-secret', 'cli_x', '--help'],
  ['keys', '--help'],
  ['keys', 'reencrypt', '--help'],
  ['connections', '--help'],
  ['connections', 'list', '--help'],
  ['connections', 'create', '--name', 'X', '--provider', 'gmail', '--help'],
];

describe('npx switchboard … --help', () => {
  it.each(HELP_INVOCATIONS.map((args) => [args.join(' '), args]))(
    '`%s` prints usage, exits 0 and touches nothing',
    (_, args) => {
      const cwd = emptyFolder('help');
      // A production-looking environment too: nothing may be opened, not even a database URL.
      const result = run(args as string[], cwd, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/Usage:\n {2}npx switchboard/);
      expect(readdirSync(cwd)).toEqual([]);
    },
  );
});

describe('npx switchboard with a mistake', () => {
  it.each([
    [['start', '--nope'], /Unknown option '--nope'/, /usage: npx switchboard start \[--port N\]/],
    [['clients', 'create', '--colour', 'red'], /Unknown option '--colour'/, /usage: npx switchboard clients/],
    [['clients', 'list', '--scope', 'read'], /--name and --scope belong to `clients create`/, /clients --help/],
    [['keys', 'reencrypt', '--force'], /Unknown option '--force'/, /usage: npx switchboard keys reencrypt/],
    [['keys', 'rotate'], /unknown subcommand "keys rotate"/, /keys --help/],
    [['connections', 'list', '--verbose'], /Unknown option '--verbose'/, /usage: npx switchboard connections/],
    [['demo', '--nope'], /Unknown option '--nope'/, /usage: npx switchboard demo/],
    [['serve'], /unknown command "serve"/, /npx switchboard --help/],
    [['--version'], /unknown option "--version"/, /usage: npx switchboard start\|demo/],
  ])('`%s` is an error with a usage line, and does nothing', (args, message, usage) => {
    const cwd = emptyFolder('mistake');
    const result = run(args, cwd);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(usage);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('start on a port that is taken says so before opening anything', async () => {
    const cwd = emptyFolder('taken');
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const result = run(['start', '--port', String(port)], cwd);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain(`npx switchboard start --port ${port + 1}`);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

describe('one data-dir rule: --data-dir (or SWITCHBOARD_DATA_DIR, or .data) for every command', () => {
  it('the command start prints for more clients reaches the running server, and its credentials work', async () => {
    const cwd = emptyFolder('rule');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--data-dir', 'server-data'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', SWITCHBOARD_PUBLIC_URL: url, SWITCHBOARD_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await expect.poll(() => output, { timeout: 15_000, interval: 100 }).toContain('Switchboard is ready');
      expect(existsSync(join(cwd, 'server-data', 'admin-credentials.json'))).toBe(true);
      expect(existsSync(join(cwd, '.data'))).toBe(false);

      const hint = /More clients: (npx switchboard .*)$/m.exec(output)?.[1] ?? '';
      expect(hint).toBe('npx switchboard clients create --name NAME --data-dir server-data');
      const args = hint.replace('npx switchboard ', '').replace('NAME', 'backend').split(' ');
      const created = run(args, cwd);
      expect(created.stderr).toBe('');
      const clientId = /client_id:\s+(\S+)/.exec(created.stdout)?.[1] ?? '';
      const clientSecret = /client_secret:\s+(\S+)/.exec(created.stdout)?.[1] ?? '';
      const token = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
        }),
      });
      expect(token.status).toBe(200);

      // The same folder without the option is another server's data: said, never silently made up.
      const listed = run(['connections', 'list', '--url', url], cwd);
      expect(listed.status).toBe(1);
      expect(listed.stderr).toContain('--data-dir');
      expect(run(['connections', 'list', '--url', url, '--data-dir', 'server-data'], cwd).stdout).toContain(
        'No connections yet',
      );
      expect(existsSync(join(cwd, '.data'))).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 40_000);

  it('the demo names its own data dir in its help, as the option other commands take', () => {
    const result = run(['demo', '--help'], emptyFolder('demo-help'));
    expect(result.stdout).toContain('npx switchboard clients create --data-dir .data/demo');
  });
});
