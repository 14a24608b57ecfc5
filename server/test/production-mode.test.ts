import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countApiClients } from '../src/auth/api-clients.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './support/database.js';
import { freePort } from './support/loopback.js';
import { CLI, type ServerProcess, startServerProcess } from './support/process.js';

const PUBLIC_URL = 'https://switchboard.example.com';
const KEY = `prod1:${Buffer.alloc(32, 9).toString('base64')}`;
const OTHER_KEY = `prod1:${Buffer.alloc(32, 4).toString('base64')}`;
const CONTROL_SECRET = 'sandbox-control-secret-0123456789abcdef';

/** Runs `switchboard start` expecting it to refuse; returns its exit code and everything it printed. */
function refusedStart(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CLI, 'start'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function postgresUrl(db: TestDatabase): string {
  return `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${db.reopen.postgresSchema}`)}`;
}

/** Credentials as `clients create` prints them. */
interface Credentials {
  client_id: string;
  client_secret: string;
}

/** What a production start prints while no admin client exists, in place of a secret. */
const NO_ADMIN_HINT = 'No admin API client yet';

/**
 * `switchboard clients create --name admin` as an operator runs it in the container: the
 * server's environment, and a data directory nothing can be written in (a path under a file).
 */
function createAdminClient(env: Record<string, string>): Credentials {
  const result = spawnSync(process.execPath, [CLI, 'clients', 'create', '--name', 'admin'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const id = /client_id:\s+(\S+)/.exec(result.stdout)?.[1];
  const secret = /client_secret:\s+(\S+)/.exec(result.stdout)?.[1];
  if (!id || !secret) throw new Error(`no credentials printed:\n${result.stdout}`);
  return { client_id: id, client_secret: secret };
}

/** A data directory nothing can be created in, whoever runs the test (root included). */
function unwritableDataDir(): { dataDir: string; cleanUp: () => void } {
  const parent = mkdtempSync(join(tmpdir(), 'sb-prod-ro-'));
  const file = join(parent, 'not-a-directory');
  writeFileSync(file, '');
  return { dataDir: join(file, 'data'), cleanUp: () => rmSync(parent, { recursive: true, force: true }) };
}

/** The log is written asynchronously: a line logged before "ready" may arrive just after it. */
async function logged(server: ServerProcess, text: string): Promise<string> {
  for (let waited = 0; waited < 5_000 && !server.output().includes(text); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return server.output();
}

async function managementToken(server: ServerProcess, credentials: Credentials): Promise<string> {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', ...credentials }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const SANDBOX_PATHS: [string, string][] = [
  ['GET', '/sandbox/__sandbox/users'],
  ['POST', '/sandbox/__sandbox/tokens'],
  ['POST', '/sandbox/__sandbox/reset'],
  ['POST', '/sandbox/__sandbox/faults'],
  ['POST', '/sandbox/__sandbox/users/john.doe@example.com/revoke'],
  ['GET', '/sandbox/o/oauth2/v2/auth?client_id=x&redirect_uri=https://evil.example/&response_type=x'],
  ['POST', '/sandbox/token'],
  ['GET', '/sandbox/gmail/v1/users/me/profile'],
  ['GET', '/sandbox/calendar/v3/users/me/calendarList'],
  ['GET', '/sandbox/.well-known/openid-configuration'],
];

describe('production mode, decided by rule', () => {
  it('is off only for SQLite with a loopback public URL, where the sandbox is mounted by default', () => {
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://dev.localhost']) {
      const config = loadConfig({ SWITCHBOARD_PUBLIC_URL: url });
      expect(config.production, url).toBe(false);
      expect(config.sandbox).toMatchObject({ enabled: true, mounted: true, controlLoopbackOnly: false });
    }
    for (const env of [
      { DATABASE_URL: 'postgres://db/x' },
      { SWITCHBOARD_PUBLIC_URL: PUBLIC_URL },
      { SWITCHBOARD_PUBLIC_URL: 'http://10.0.0.5:3000' },
    ]) {
      const config = loadConfig(env);
      expect(config.production, JSON.stringify(env)).toBe(true);
      expect(config.sandbox).toMatchObject({ enabled: false, mounted: false });
    }
  });

  it('mounts the sandbox in production only when asked, its control API loopback-only without a secret', () => {
    const asked = loadConfig({ SWITCHBOARD_PUBLIC_URL: PUBLIC_URL, SWITCHBOARD_SANDBOX: 'true' });
    expect(asked.sandbox).toMatchObject({ enabled: true, mounted: true, controlLoopbackOnly: true });
    const withSecret = loadConfig({
      DATABASE_URL: 'postgres://db/x',
      SWITCHBOARD_SANDBOX: 'true',
      SWITCHBOARD_SANDBOX_CONTROL_SECRET: CONTROL_SECRET,
    });
    expect(withSecret.sandbox).toMatchObject({
      mounted: true,
      controlSecret: CONTROL_SECRET,
      controlLoopbackOnly: false,
    });
    // An external sandbox is an explicit ask too; nothing is mounted here for it.
    const external = loadConfig({ DATABASE_URL: 'postgres://db/x', SWITCHBOARD_SANDBOX_URL: 'http://127.0.0.1:4010' });
    expect(external.sandbox).toMatchObject({ enabled: true, mounted: false });
    expect(loadConfig({ SWITCHBOARD_SANDBOX: 'false' }).sandbox.mounted).toBe(false);
  });
});

describe('production mode on Postgres with a public URL (the production recipe)', () => {
  let db: TestDatabase;
  let dataDir: string;
  let cleanUpDataDir: () => void;
  let server: ServerProcess;
  let admin: Credentials | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // As in the container with Postgres: nothing needs to be written in the data directory.
    ({ dataDir, cleanUp: cleanUpDataDir } = unwritableDataDir());
    server = await startServerProcess({
      DATABASE_URL: postgresUrl(db),
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
    });
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await db?.close();
    cleanUpDataDir?.();
  });

  it('answers 404 on every sandbox path, the control API included, and says the sandbox is off', async () => {
    for (const [method, path] of SANDBOX_PATHS) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        redirect: 'manual',
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect(await logged(server, 'sandbox off')).toContain('sandbox off (production mode');
  });

  it('creates no admin client on its first start and prints no secret, only how to create one', async () => {
    const output = await logged(server, 'sandbox off');
    expect(output).not.toMatch(/sbs_/);
    expect(output).not.toContain('client_secret');
    expect(output).toContain(NO_ADMIN_HINT);
    expect(output).toContain('npx switchboard clients create --name admin\n');
    expect(output).toContain('node server/dist/cli.js clients create --name admin');
    expect(await countApiClients(db.db)).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('gets its first admin from `clients create` against the database, with no file written', async () => {
    admin = createAdminClient({
      DATABASE_URL: postgresUrl(db),
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    expect(admin.client_secret).toMatch(/^sbs_/);
    expect(await countApiClients(db.db)).toBe(1);
    expect(existsSync(dataDir)).toBe(false);
    // The running server takes it at once, and still has printed no secret.
    expect(await managementToken(server, admin)).toBeTruthy();
    expect(server.output()).not.toMatch(/sbs_/);
  });

  it('refuses a connection without OAuth credentials, naming both missing fields', async () => {
    if (!admin) throw new Error('needs the admin client the test before created');
    const token = await managementToken(server, admin);
    const create = (body: Record<string, unknown>) =>
      fetch(`${server.url}/api/v1/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await create({ name: 'MY_GMAIL', provider: 'gmail' });
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('validation_failed');
    expect(error.message).toContain('oauth_client_id');
    expect(error.message).toContain('oauth_client_secret');
    expect((await create({ name: 'MY_GMAIL', provider: 'gmail', target: 'sandbox' })).status).toBe(400);
    const real = await create({
      name: 'MY_GMAIL',
      provider: 'gmail',
      oauth_client_id: 'app.apps.googleusercontent.com',
      oauth_client_secret: 'GOCSPX-real',
    });
    expect(real.status).toBe(201);
  });

  it('stops at the next start when the key was replaced, with the fix spelled out', async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    const { status, output } = refusedStart({
      DATABASE_URL: postgresUrl(db),
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: OTHER_KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    expect(status).toBe(1);
    expect(output).toContain('cannot decrypt the secrets already in the database');
    expect(output).toContain('SWITCHBOARD_ENCRYPTION_KEYS_OLD');
    expect(output).not.toContain('Switchboard is ready');
    // The old key given as an old key opens them again.
    const again = await startServerProcess({
      DATABASE_URL: postgresUrl(db),
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: `prod2:${Buffer.alloc(32, 4).toString('base64')}`,
      SWITCHBOARD_ENCRYPTION_KEYS_OLD: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    again.child.kill('SIGKILL');
    // An admin client exists now: no more hint, and still no secret.
    expect(again.output()).not.toContain(NO_ADMIN_HINT);
    expect(again.output()).not.toMatch(/sbs_/);
  });

  it('refuses to start on Postgres without an encryption key, saying how to make one', async () => {
    const { status, output } = refusedStart({
      DATABASE_URL: postgresUrl(db),
      SWITCHBOARD_PUBLIC_URL: 'http://127.0.0.1:3000',
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    expect(status).toBe(1);
    expect(output).toContain('SWITCHBOARD_ENCRYPTION_KEY is required in production mode (DATABASE_URL is set)');
    expect(output).toContain('echo "k1:$(openssl rand -base64 32)"');
  });
});

describe('production mode on SQLite (a public URL that is not this machine)', () => {
  it('prints no secret and writes no credentials file; the command it prints makes a working admin', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-prod-sqlite-'));
    const env = { SWITCHBOARD_PUBLIC_URL: PUBLIC_URL, SWITCHBOARD_ENCRYPTION_KEY: KEY, SWITCHBOARD_DATA_DIR: dataDir };
    const server = await startServerProcess(env);
    try {
      expect(server.output()).not.toMatch(/sbs_/);
      expect(server.output()).toContain(NO_ADMIN_HINT);
      expect(existsSync(join(dataDir, 'admin-credentials.json'))).toBe(false);
      // The printed command names this data directory, so pasted as it is it reaches this database.
      const printed = /^ {2}npx switchboard (clients create .*)$/m.exec(server.output())?.[1] ?? '';
      expect(printed).toBe(`clients create --name admin --data-dir ${dataDir}`);
      const created = spawnSync(process.execPath, [CLI, ...printed.split(' ')], {
        env: { PATH: process.env.PATH ?? '', ...env, SWITCHBOARD_DATA_DIR: '' },
        encoding: 'utf8',
      });
      expect(created.status, created.stderr).toBe(0);
      const client_id = /client_id:\s+(\S+)/.exec(created.stdout)?.[1] ?? '';
      const client_secret = /client_secret:\s+(\S+)/.exec(created.stdout)?.[1] ?? '';
      expect(await managementToken(server, { client_id, client_secret })).toBeTruthy();
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('production mode with a declared admin client (SWITCHBOARD_ADMIN_CLIENT_ID and _SECRET)', () => {
  it('creates it at the first start, says so without the secret, and warns once the declared secret stops working', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-prod-declared-'));
    const declared = { client_id: 'ops-admin', client_secret: 'declared-secret-0123456789abcdefghij' };
    const env = {
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_CLIENT_ID: declared.client_id,
      SWITCHBOARD_ADMIN_CLIENT_SECRET: declared.client_secret,
    };
    try {
      const first = await startServerProcess(env);
      try {
        expect(first.output()).toContain('Created the declared admin API client ops-admin');
        expect(first.output()).not.toContain(NO_ADMIN_HINT);
        expect(first.output()).not.toContain(declared.client_secret);
        expect(existsSync(join(dataDir, 'admin-credentials.json'))).toBe(false);
        expect(await managementToken(first, declared)).toBeTruthy();
      } finally {
        first.child.kill('SIGTERM');
        await first.exited;
      }
      const changed = 'changed-secret-0123456789abcdefghijkl';
      const again = await startServerProcess({ ...env, SWITCHBOARD_ADMIN_CLIENT_SECRET: changed });
      try {
        expect(again.output()).toContain(
          'SWITCHBOARD_ADMIN_CLIENT_SECRET is not the stored secret of API client ops-admin',
        );
        expect(again.output()).not.toContain('Created the declared admin');
        expect(again.output()).not.toContain(changed);
        expect(await managementToken(again, declared)).toBeTruthy();
      } finally {
        again.child.kill('SIGKILL');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the sandbox asked for in production mode', () => {
  let dataDir: string;
  let server: ServerProcess;
  const control = (path: string, init: RequestInit = {}) => fetch(`${server.url}/sandbox/__sandbox${path}`, init);
  const authorized = { authorization: `Bearer ${CONTROL_SECRET}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-prod-sandbox-'));
    server = await startServerProcess({
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SANDBOX: 'true',
      SWITCHBOARD_SANDBOX_CONTROL_SECRET: CONTROL_SECRET,
    });
  });
  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps its control API behind the secret, and says so at start', async () => {
    expect(await logged(server, 'control API needs')).toContain('control API needs the bearer secret');
    expect((await control('/users')).status).toBe(401);
    expect((await control('/users', { headers: { authorization: 'Bearer wrong-secret' } })).status).toBe(401);
    const minted = await control('/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'john.doe@example.com', scopes: ['https://mail.google.com/'] }),
    });
    expect(minted.status).toBe(401);
    expect((await control('/reset', { method: 'POST' })).status).toBe(401);
    expect((await control('/users', { headers: authorized })).status).toBe(200);
  });

  it('rejects a 64 MB fault body, and bounds fault bodies and stored faults', async () => {
    const huge = JSON.stringify({ match: { pathPrefix: '/gmail/' }, status: 500, body: 'x'.repeat(64 * 1024 * 1024) });
    const rejected = await control('/faults', { method: 'POST', headers: authorized, body: huge }).catch(
      (error: unknown) => error,
    );
    // Either a 413 or a closed socket: never stored, and the server keeps serving.
    if (rejected instanceof Response) expect(rejected.status).toBe(413);
    const large = JSON.stringify({ match: { pathPrefix: '/gmail/' }, status: 500, body: 'x'.repeat(100_000) });
    expect((await control('/faults', { method: 'POST', headers: authorized, body: large })).status).toBe(400);
    const listed = (await (await control('/faults', { headers: authorized })).json()) as { faults: unknown[] };
    expect(listed.faults).toEqual([]);

    const small = JSON.stringify({ match: { pathPrefix: '/nowhere/' }, status: 500 });
    for (let i = 0; i < 100; i++) {
      expect((await control('/faults', { method: 'POST', headers: authorized, body: small })).status).toBe(201);
    }
    expect((await control('/faults', { method: 'POST', headers: authorized, body: small })).status).toBe(429);
    expect((await control('/faults', { method: 'DELETE', headers: authorized })).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('redirects only to this server, never to a URI from the request', async () => {
    const authorize = (redirectUri: string) =>
      fetch(
        `${server.url}/sandbox/o/oauth2/v2/auth?${new URLSearchParams({
          client_id: 'any-client',
          redirect_uri: redirectUri,
          response_type: 'token',
          scope: 'openid',
        })}`,
        { redirect: 'manual' },
      );
    const evil = await authorize('https://evil.example/steal');
    expect(evil.status).toBe(400);
    expect(evil.headers.get('location')).toBeNull();
    const own = await authorize(`${PUBLIC_URL}/oauth/callback`);
    expect(own.status).toBe(302);
    expect(own.headers.get('location')).toMatch(/^https:\/\/switchboard\.example\.com\/oauth\/callback\?/);
  });
});

describe('the sandbox asked for in production mode without a control secret', () => {
  it('answers the control API only to callers on this machine, and says so at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-prod-loopback-'));
    const server = await startServerProcess({
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_ENCRYPTION_KEY: KEY,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SANDBOX: 'true',
    });
    try {
      expect(await logged(server, 'answers only')).toContain('control API answers only on this machine');
      expect((await fetch(`${server.url}/sandbox/__sandbox/users`)).status).toBe(200);
      // A reverse proxy on the same host connects from loopback for anyone on the internet.
      const proxied = await fetch(`${server.url}/sandbox/__sandbox/users`, {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(proxied.status).toBe(403);
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** An IPv4 address of this machine other than loopback, if it has one. */
const outsideAddress = Object.values(networkInterfaces())
  .flat()
  .find((info) => info && info.family === 'IPv4' && !info.internal)?.address;

describe('the embedded default listening on every interface (HOST=0.0.0.0, as the container image does)', () => {
  it('is not production mode, but its sandbox control API answers only this machine without a secret', () => {
    const open = loadConfig({ HOST: '0.0.0.0' });
    expect(open.production).toBe(false);
    expect(open.sandbox).toMatchObject({ enabled: true, mounted: true, controlLoopbackOnly: true });
    expect(loadConfig({ HOST: '::' }).sandbox.controlLoopbackOnly).toBe(true);
    expect(loadConfig({ HOST: 'localhost' }).sandbox.controlLoopbackOnly).toBe(false);
    expect(
      loadConfig({ HOST: '0.0.0.0', SWITCHBOARD_SANDBOX_CONTROL_SECRET: CONTROL_SECRET }).sandbox.controlLoopbackOnly,
    ).toBe(false);
  });

  it.skipIf(!outsideAddress)('refuses a caller that reaches it through another address of the machine', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-all-interfaces-'));
    const port = await freePort();
    const server = await startServerProcess({
      HOST: '0.0.0.0',
      PORT: String(port),
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SANDBOX_PORT: 'off',
      SWITCHBOARD_ALLOWED_HOSTS: `${outsideAddress}:${port}`,
    });
    try {
      expect(await logged(server, 'answers only')).toContain('control API answers only on this machine');
      expect((await fetch(`${server.url}/sandbox/__sandbox/users`)).status).toBe(200);
      const fromOutside = await fetch(`http://${outsideAddress}:${port}/sandbox/__sandbox/users`);
      expect(fromOutside.status).toBe(403);
      // The consent pages a browser needs stay reachable from there.
      const page = await fetch(`http://${outsideAddress}:${port}/sandbox/.well-known/openid-configuration`);
      expect(page.status).toBe(200);
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('key and data files in the embedded default', () => {
  it('creates the SQLite file 0600, and refuses a replaced or missing key file instead of starting over', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-files-'));
    try {
      const first = await startServerProcess({ SWITCHBOARD_DATA_DIR: dataDir });
      first.child.kill('SIGTERM');
      await first.exited;
      expect(statSync(join(dataDir, 'switchboard.db')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dataDir, 'admin-credentials.json'))).toBe(true);

      const keyFile = join(dataDir, 'encryption.key');
      writeFileSync(keyFile, `k1:${Buffer.alloc(32, 3).toString('base64')}\n`, { mode: 0o600 });
      const replaced = refusedStart({ SWITCHBOARD_DATA_DIR: dataDir });
      expect(replaced.status).toBe(1);
      expect(replaced.output).toContain('cannot decrypt the secrets already in the database');
      expect(replaced.output).toContain('from a backup');
      expect(replaced.output).toContain('SWITCHBOARD_ENCRYPTION_KEYS_OLD');

      rmSync(keyFile);
      const missing = refusedStart({ SWITCHBOARD_DATA_DIR: dataDir });
      expect(missing.status).toBe(1);
      expect(missing.output).toContain(`${keyFile} is missing`);
      expect(existsSync(keyFile)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a key file other users can read, with the chmod that fixes it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-keymode-'));
    try {
      const keyFile = join(dataDir, 'encryption.key');
      writeFileSync(keyFile, `k1:${Buffer.alloc(32, 5).toString('base64')}\n`);
      chmodSync(keyFile, 0o644);
      const { status, output } = refusedStart({ SWITCHBOARD_DATA_DIR: dataDir });
      expect(status).toBe(1);
      expect(output).toContain(`chmod 600 ${keyFile}`);
      expect(output).not.toContain('Switchboard is ready');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
