import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '../src/commands/command-error.js';
import { connectionsCommand } from '../src/commands/connections.js';
import { demoCommand } from '../src/commands/demo.js';
import { type Stack, startStack } from './support/stack.js';

function capture() {
  let text = '';
  return {
    out: (chunk: string) => {
      text += chunk;
    },
    get text() {
      return text;
    },
  };
}

describe('switchboard demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('--auto-consent runs the reminder agent to a real event on an embedded server, twice on the same data', async () => {
    for (const run of [1, 2]) {
      const output = capture();
      const startedAt = Date.now();
      const result = await demoCommand({}, ['--auto-consent', '--data-dir', dataDir], output.out);
      expect(result?.event, `run ${run}:\n${output.text}`).toBeDefined();
      expect(result?.model).toContain('scripted');
      const start = Date.parse(result?.event?.start?.dateTime ?? '');
      const end = Date.parse(result?.event?.end?.dateTime ?? '');
      expect(Math.abs(start - (startedAt + 15 * 60_000))).toBeLessThan(60_000);
      expect(end - start).toBe(15 * 60_000);
      expect(output.text).toContain('✓ Switchboard is running at http://127.0.0.1:');
      expect(output.text).toMatch(/The reminder is in john\.doe@example\.com's calendar/);
      expect(output.text).toContain('DATABASE_URL');
      if (run === 1) expect(output.text).toMatch(/authenticate: http:\/\/127\.0\.0\.1:\d+\/connect\//);
      // User verification: the demo's own verify route confirmed john-doe for both accounts.
      expect(output.text).toMatch(/verify route is http:\/\/127\.0\.0\.1:\d+\/switchboard\/verify/);
      if (run === 1) {
        expect(output.text.match(/the demo verified john-doe itself, as your app would/g)).toHaveLength(2);
      }
    }
  });

  it('refuses to wipe a non-empty directory it did not make', async () => {
    const foreign = join(dataDir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep-me.txt'), 'precious');
    const error = await demoCommand({}, ['--auto-consent', '--data-dir', foreign], () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: `${foreign} is not empty and was not made by the demo` });
    expect(existsSync(join(foreign, 'keep-me.txt'))).toBe(true);
  });

  const builtCli = resolve(import.meta.dirname, '../dist/cli.js');
  it.runIf(existsSync(builtCli))(
    'completes as the built CLI: node dist/cli.js demo --auto-consent',
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [builtCli, 'demo', '--auto-consent', '--data-dir', join(dataDir, 'built-cli')],
        { timeout: 60_000, env: { PATH: process.env.PATH } },
      );
      expect(stdout).toMatch(/The reminder is in john\.doe@example\.com's calendar/);
      expect(stdout).toMatch(/\(15 min\)/);
      expect(stdout).toContain('the demo verified john-doe itself');
    },
    70_000,
  );

  it('prints its help', async () => {
    const output = capture();
    await demoCommand({}, ['--help'], output.out);
    expect(output.text).toContain('--auto-consent');
  });

  it('explains a bad option in one line with a hint', async () => {
    const error = await demoCommand({}, ['--nope']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).hint).toContain('switchboard demo --help');
  });
});

describe('switchboard connections', () => {
  let stack: Stack;
  let credentials: string[];
  beforeAll(async () => {
    stack = await startStack({ listen: true });
    credentials = [
      '--url',
      stack.url,
      '--client-id',
      stack.admin.client_id,
      '--client-secret',
      stack.admin.client_secret,
    ];
  });
  afterAll(() => stack?.close());

  it('creates sandbox and provider connections and lists them', async () => {
    const empty = capture();
    await connectionsCommand({}, ['list', ...credentials], empty.out);
    expect(empty.text).toContain('No connections yet');

    const created = capture();
    await connectionsCommand({}, ['create', '--name', 'MY_GMAIL', '--provider', 'gmail', ...credentials], created.out);
    expect(created.text).toMatch(/Created connection MY_GMAIL \(gmail, sandbox\) conn_/);

    const real = capture();
    await connectionsCommand(
      {},
      [
        'create',
        '--name',
        'REAL_CAL',
        '--provider',
        'googlecalendar',
        '--oauth-client-id',
        'id.apps',
        '--oauth-client-secret',
        's3cret',
        ...credentials,
      ],
      real.out,
    );
    expect(real.text).toContain(`Register this redirect URI in your OAuth app: ${stack.url}/oauth/callback`);

    const listed = capture();
    await connectionsCommand({}, ['list', ...credentials], listed.out);
    expect(listed.text.split('\n')[0]).toMatch(/^NAME\s+PROVIDER\s+TARGET\s+ID$/);
    expect(listed.text).toMatch(/MY_GMAIL\s+gmail\s+sandbox\s+conn_/);
    expect(listed.text).toMatch(/REAL_CAL\s+googlecalendar\s+provider\s+conn_/);
  });

  it('turns server errors and bad credentials into one line with a hint', async () => {
    const duplicate = await connectionsCommand(
      {},
      ['create', '--name', 'MY_GMAIL', '--provider', 'gmail', ...credentials],
      () => {},
    ).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(CommandError);
    expect((duplicate as Error).message).toContain('already exists');

    const wrong = await connectionsCommand(
      {},
      ['list', '--url', stack.url, '--client-id', 'x', '--client-secret', 'y'],
      () => {},
    ).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ message: 'the server rejected the client credentials' });
    expect((wrong as CommandError).hint).toContain('switchboard clients create');

    const down = await connectionsCommand(
      {},
      ['list', ...credentials.slice(2), '--url', 'http://127.0.0.1:1'],
      () => {},
    ).catch((e: unknown) => e);
    expect((down as CommandError).hint).toContain('switchboard start');
  });

  it('prints its help', async () => {
    const output = capture();
    await connectionsCommand({}, ['--help'], output.out);
    expect(output.text).toContain('connections create --name NAME --provider P');
  });
});
