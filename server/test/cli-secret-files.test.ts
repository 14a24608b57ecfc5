import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '../src/commands/command-error.js';
import { CONNECTIONS_HELP, connectionsCommand } from '../src/commands/connections.js';
import { CLI } from './support/process.js';
import { type Stack, startStack } from './support/stack.js';
import { tempDir } from './support/temp-dir.js';

const OAUTH_SECRET = 'GOCSPX-never-on-the-command-line';

/** A standard input that must not be read: the test fails if a command opens it. */
const untouchedStdin = () =>
  new Readable({
    read() {
      throw new Error('standard input was read');
    },
  });

describe('switchboard connections reads its secrets from files and standard input', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ listen: true });
  });
  afterAll(() => stack?.close());

  /** The management secret in a file of its own, as `--url … --client-id … --client-secret-file PATH`. */
  function server(dir: string): string[] {
    const file = join(dir, 'admin-secret');
    writeFileSync(file, `${stack.admin.client_secret}\n`, { mode: 0o600 });
    return ['--url', stack.url, '--client-id', stack.admin.client_id, '--client-secret-file', file];
  }

  const create = (name: string) => [
    'create',
    '--name',
    name,
    '--provider',
    'googlecalendar',
    '--oauth-client-id',
    'id.apps',
  ];

  async function storedSecret(name: string): Promise<string | undefined> {
    const { connections } = stack.services;
    return connections.oauthApp(await connections.getByName(name)).clientSecret();
  }

  async function failure(args: string[], stdin: Readable = untouchedStdin()): Promise<CommandError> {
    const error = await connectionsCommand({}, args, () => {}, stdin).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    const { message, hint } = error as CommandError;
    for (const secret of [OAUTH_SECRET, stack.admin.client_secret]) {
      expect(`${message} ${hint}`).not.toContain(secret);
    }
    return error as CommandError;
  }

  it('creates a provider connection whose stored secret is the file’s, without its trailing newline', async () => {
    const dir = tempDir('switchboard-secrets-');
    const file = join(dir, 'oauth-secret');
    writeFileSync(file, `${OAUTH_SECRET}\n`, { mode: 0o600 });
    let text = '';
    await connectionsCommand(
      {},
      [...create('FROM_FILE'), '--oauth-client-secret-file', file, ...server(dir)],
      (chunk) => {
        text += chunk;
      },
      untouchedStdin(),
    );
    expect(text).toMatch(/Created connection FROM_FILE \(googlecalendar, provider\) conn_/);
    expect(await storedSecret('FROM_FILE')).toBe(OAUTH_SECRET);
  });

  it('reads - from standard input, for the OAuth secret or the management one', async () => {
    const dir = tempDir('switchboard-secrets-');
    await connectionsCommand(
      {},
      [...create('FROM_STDIN'), '--oauth-client-secret-file', '-', ...server(dir)],
      () => {},
      Readable.from([Buffer.from('  GOCSPX-never-'), 'on-the-command-line\r\n']),
    );
    expect(await storedSecret('FROM_STDIN')).toBe(OAUTH_SECRET);

    let listed = '';
    await connectionsCommand(
      {},
      ['list', '--url', stack.url, '--client-id', stack.admin.client_id, '--client-secret-file', '-'],
      (chunk) => {
        listed += chunk;
      },
      Readable.from([stack.admin.client_secret]),
    );
    expect(listed).toMatch(/FROM_STDIN\s+googlecalendar\s+provider\s+conn_/);
  });

  it('refuses a secret given both as a value and as a file, and - for both files', async () => {
    const dir = tempDir('switchboard-secrets-');
    const file = join(dir, 'oauth-secret');
    writeFileSync(file, OAUTH_SECRET);
    const both = await failure(
      [...create('BOTH'), '--oauth-client-secret', OAUTH_SECRET, '--oauth-client-secret-file', file, ...server(dir)],
      untouchedStdin(),
    );
    expect(both.message).toBe('give --oauth-client-secret-file or --oauth-client-secret, not both');

    const admin = await failure(
      ['list', ...server(dir), '--client-secret', stack.admin.client_secret],
      untouchedStdin(),
    );
    expect(admin.message).toBe('give --client-secret-file or --client-secret, not both');

    const stdinTwice = await failure(
      [
        ...create('STDIN_TWICE'),
        '--oauth-client-secret-file',
        '-',
        '--url',
        stack.url,
        '--client-id',
        stack.admin.client_id,
        '--client-secret-file',
        '-',
      ],
      untouchedStdin(),
    );
    expect(stdinTwice.message).toContain('only one of --client-secret-file and --oauth-client-secret-file can be -');
    expect(await stack.services.connections.findByName('BOTH')).toBeUndefined();
    expect(await stack.services.connections.findByName('STDIN_TWICE')).toBeUndefined();
  });

  it('refuses an empty secret and a file it cannot read, naming the path and never a secret', async () => {
    const dir = tempDir('switchboard-secrets-');
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const fromEmptyFile = await failure([...create('EMPTY'), '--oauth-client-secret-file', empty, ...server(dir)]);
    expect(fromEmptyFile.message).toBe(`--oauth-client-secret-file ${empty} is empty`);
    expect(fromEmptyFile.hint).toContain(`write the secret into ${empty}`);

    const fromEmptyStdin = await failure(
      [...create('EMPTY'), '--oauth-client-secret-file', '-', ...server(dir)],
      Readable.from([' \n']),
    );
    expect(fromEmptyStdin.message).toBe('--oauth-client-secret-file standard input is empty');
    expect(fromEmptyStdin.hint).toContain('--oauth-client-secret-file -');

    const missing = join(dir, 'no-such-file');
    const fromMissing = await failure([...create('MISSING'), '--oauth-client-secret-file', missing, ...server(dir)]);
    expect(fromMissing.message).toBe(`could not read --oauth-client-secret-file ${missing} (ENOENT)`);

    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const fromFolder = await failure(['list', '--url', stack.url, '--client-id', 'x', '--client-secret-file', folder]);
    expect(fromFolder.message).toBe(`could not read --client-secret-file ${folder} (EISDIR)`);

    expect(await stack.services.connections.findByName('EMPTY')).toBeUndefined();
    expect(await stack.services.connections.findByName('MISSING')).toBeUndefined();
  });

  it('refuses a management secret without --client-id instead of quietly using the admin credentials', async () => {
    const dir = tempDir('switchboard-secrets-');
    const file = join(dir, 'admin-secret');
    writeFileSync(file, stack.admin.client_secret);
    const error = await failure(['list', '--url', stack.url, '--client-secret-file', file]);
    expect(error.message).toContain('give both --client-id and --client-secret-file');
  });

  /** Google Cloud Console's download, `client_secret_<id>.apps.googleusercontent.com.json`, in its shape. */
  function googleClientFile(dir: string, kind: 'web' | 'installed', clientId: string): string {
    const file = join(dir, `client_secret_${clientId}.json`);
    const app = {
      client_id: clientId,
      project_id: 'switchboard-test',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_secret: OAUTH_SECRET,
      redirect_uris: [`${stack.url}/oauth/callback`],
    };
    writeFileSync(file, JSON.stringify({ [kind]: app }), { mode: 0o600 });
    return file;
  }

  const createBare = (name: string) => ['create', '--name', name, '--provider', 'gmail'];

  it('takes the secret and the client id from Google’s downloaded JSON file given as is', async () => {
    const dir = tempDir('switchboard-secrets-');
    const web = googleClientFile(dir, 'web', '123-web.apps.googleusercontent.com');
    let text = '';
    await connectionsCommand(
      {},
      [...createBare('GOOGLE_WEB'), '--oauth-client-secret-file', web, ...server(dir)],
      (chunk) => {
        text += chunk;
      },
      untouchedStdin(),
    );
    expect(text).toMatch(/Created connection GOOGLE_WEB \(gmail, provider\) conn_/);
    const row = await stack.services.connections.getByName('GOOGLE_WEB');
    expect(row.oauth_client_id).toBe('123-web.apps.googleusercontent.com');
    expect(await storedSecret('GOOGLE_WEB')).toBe(OAUTH_SECRET);

    // A desktop app's file says `installed`; the same id given again is no conflict.
    const installed = googleClientFile(dir, 'installed', '456-desktop.apps.googleusercontent.com');
    await connectionsCommand(
      {},
      [
        ...createBare('GOOGLE_INSTALLED'),
        '--oauth-client-id',
        '456-desktop.apps.googleusercontent.com',
        '--oauth-client-secret-file',
        '-',
        ...server(dir),
      ],
      () => {},
      Readable.from([readFileSync(installed)]),
    );
    expect((await stack.services.connections.getByName('GOOGLE_INSTALLED')).oauth_client_id).toBe(
      '456-desktop.apps.googleusercontent.com',
    );
    expect(await storedSecret('GOOGLE_INSTALLED')).toBe(OAUTH_SECRET);
  });

  it('refuses a Google file of another client than --oauth-client-id, and JSON of another shape, never showing the secret', async () => {
    const dir = tempDir('switchboard-secrets-');
    const web = googleClientFile(dir, 'web', '123-web.apps.googleusercontent.com');
    const mismatch = await failure([
      ...createBare('GOOGLE_MISMATCH'),
      '--oauth-client-id',
      '999-other.apps.googleusercontent.com',
      '--oauth-client-secret-file',
      web,
      ...server(dir),
    ]);
    expect(mismatch.message).toContain('999-other.apps.googleusercontent.com');
    expect(mismatch.message).toContain('123-web.apps.googleusercontent.com');

    const other = join(dir, 'service-account.json');
    writeFileSync(other, JSON.stringify({ type: 'service_account', private_key: OAUTH_SECRET }));
    const wrongShape = await failure([...create('WRONG_SHAPE'), '--oauth-client-secret-file', other, ...server(dir)]);
    expect(wrongShape.message).toBe(`--oauth-client-secret-file ${other} is JSON but not Google's OAuth client file`);
    expect(wrongShape.hint).toContain('{"web":{"client_id":…,"client_secret":…}}');

    expect(await stack.services.connections.findByName('GOOGLE_MISMATCH')).toBeUndefined();
    expect(await stack.services.connections.findByName('WRONG_SHAPE')).toBeUndefined();
  });

  it('keeps a plain secret that merely looks like JSON, and takes --oauth-client-secret as given', async () => {
    const dir = tempDir('switchboard-secrets-');
    const numeric = join(dir, 'numeric-secret');
    writeFileSync(numeric, '1234567890\n');
    await connectionsCommand(
      {},
      [...create('PLAIN_NUMERIC'), '--oauth-client-secret-file', numeric, ...server(dir)],
      () => {},
      untouchedStdin(),
    );
    expect(await storedSecret('PLAIN_NUMERIC')).toBe('1234567890');

    await connectionsCommand(
      {},
      [...create('PLAIN_VALUE'), '--oauth-client-secret', OAUTH_SECRET, ...server(dir)],
      () => {},
      untouchedStdin(),
    );
    expect(await storedSecret('PLAIN_VALUE')).toBe(OAUTH_SECRET);
  });

  it('shows the file forms in its help, and why', () => {
    expect(CONNECTIONS_HELP).toContain('[[--oauth-client-id ID] --oauth-client-secret-file PATH]');
    expect(CONNECTIONS_HELP).toContain('--client-secret-file PATH');
    expect(CONNECTIONS_HELP).toMatch(/visible to other local\s+users \(ps\)/);
    expect(CONNECTIONS_HELP).toMatch(
      /JSON file Google Cloud Console downloads \(client_secret_….json\) can be given as is/,
    );
  });

  it.runIf(existsSync(CLI))(
    'takes the OAuth secret from a real pipe as the built CLI: printf … | node dist/cli.js connections create … -',
    async () => {
      const dir = tempDir('switchboard-secrets-');
      const args = [CLI, 'connections', ...create('FROM_PIPE'), '--oauth-client-secret-file', '-', ...server(dir)];
      const child = spawn(process.execPath, args, {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      child.stdin.end(`${OAUTH_SECRET}\n`);
      expect(await exited, output).toBe(0);
      expect(output).toMatch(/Created connection FROM_PIPE \(googlecalendar, provider\) conn_/);
      expect(args.join(' ')).not.toContain(OAUTH_SECRET);
      expect(args.join(' ')).not.toContain(stack.admin.client_secret);
      expect(await storedSecret('FROM_PIPE')).toBe(OAUTH_SECRET);
    },
    30_000,
  );
});
