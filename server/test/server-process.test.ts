import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { CLI, startServerProcess } from './support/process.js';
import { startStack } from './support/stack.js';
import { tempDir } from './support/temp-dir.js';

describe('switchboard start', () => {
  it('starts with no configuration, prints admin credentials once, and serves health checks', async () => {
    expect(existsSync(CLI), 'run npm run build first').toBe(true);
    const dataDir = tempDir('sb-start-');
    const started = Date.now();
    const first = await startServerProcess({ SWITCHBOARD_DATA_DIR: dataDir });
    const elapsed = Date.now() - started;
    try {
      expect(elapsed).toBeLessThan(10_000);
      const output = first.output();
      expect(output).toMatch(/client_id:\s+sbc_/);
      expect(output).toMatch(/client_secret:\s+sbs_/);
      expect(output).toContain('SWITCHBOARD_ENCRYPTION_KEY is not set');
      expect(statSync(join(dataDir, 'admin-credentials.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).toBe(0o600);
      const credentials = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as Record<
        string,
        string
      >;
      expect(output).toContain(credentials.client_secret);

      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${first.url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', database: 'sqlite' });
      const token = await fetch(`${first.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', ...credentials }),
      });
      expect(token.status).toBe(200);
      // The sandbox is mounted under /sandbox in the embedded default.
      expect((await fetch(`${first.url}/sandbox/__sandbox/users`)).status).toBe(200);

      // SIGTERM lets an in-flight request finish before the process exits.
      await fetch(`${first.url}/sandbox/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ match: { pathPrefix: '/gmail/' }, delayMs: 800 }),
      });
      const inflight = fetch(`${first.url}/sandbox/gmail/v1/users/me/profile`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      first.child.kill('SIGTERM');
      const response = await inflight;
      expect(response.status).toBe(401);
      expect(await first.exited).toBe(0);
    } finally {
      first.child.kill('SIGKILL');
    }

    const second = await startServerProcess({ SWITCHBOARD_DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toContain('client_secret');
      expect(second.output()).not.toContain('SWITCHBOARD_ENCRYPTION_KEY is not set');
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  it('with PORT=0 prints and serves URLs that carry the port the system picked', async () => {
    const dataDir = tempDir('sb-port-0-');
    // No public URL: the server derives it from the port it listens on.
    const server = await startServerProcess({ SWITCHBOARD_DATA_DIR: dataDir, PORT: '0', SWITCHBOARD_PUBLIC_URL: '' });
    try {
      const url = /Switchboard is ready at (\S+)/.exec(server.output())?.[1] ?? '';
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      const port = Number(new URL(url).port);
      expect(port).toBeGreaterThan(0);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const metadata = await fetch(`${url}/.well-known/oauth-authorization-server`);
      expect(await metadata.json()).toMatchObject({ issuer: url, token_endpoint: `${url}/mcp-oauth/token` });

      const credentials = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as Record<
        string,
        string
      >;
      const token = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', ...credentials }),
      });
      const api = async (path: string, body: unknown) => {
        const response = await fetch(`${url}/api/v1${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${((await token.clone().json()) as { access_token: string }).access_token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      await api('/connections', { name: 'MY_GMAIL', provider: 'gmail' });
      const link = await api('/connected_accounts/magic_link', { connector: 'MY_GMAIL', identifier: 'john-doe' });
      expect(link.link).toEqual(expect.stringMatching(new RegExp(`^${url}/connect/`)));
      // The MCP endpoint's Host check knows the port too: an unknown instance, not a foreign Host.
      const mcp = await fetch(`${url}/mcp/i/not-an-instance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(await mcp.text()).not.toContain('the Host header does not name this server');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('refuses bad configuration with one clear message per variable', () => {
    const result = spawnSync(process.execPath, [CLI, 'start'], {
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty', DATABASE_URL: 'mysql://x', SWITCHBOARD_LOG_LEVEL: 'loud' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(result.stderr).toContain('SWITCHBOARD_LOG_LEVEL');
    expect(result.stderr).toContain('hint:');
  });

  it('validates configuration in loadConfig', () => {
    expect(() => loadConfig({ PORT: '-1' })).toThrow(ConfigError);
    const config = loadConfig({ PORT: '4000' });
    expect(config.publicUrl).toBe('http://localhost:4000');
    // Mounted under /sandbox, and served at a host root on PORT+1, where connections go.
    expect(config.sandbox).toMatchObject({ mounted: true, port: 4001, url: 'http://localhost:4001' });
    // PORT=0: the URLs carry the port the listener got; the sandbox still gets a port of its own choosing.
    const ephemeral = loadConfig({ PORT: '0' }, { boundPort: 40123 });
    expect(ephemeral).toMatchObject({ port: 40123, publicUrl: 'http://localhost:40123', sandbox: { port: 0 } });
    expect(ephemeral.allowedHosts).toEqual(['localhost:40123', '127.0.0.1:40123']);
    expect(loadConfig({ PORT: '4000' }, { boundPort: 40123 }).publicUrl).toBe('http://localhost:4000');
  });
});

describe('logs', () => {
  it('never contain tokens, codes, client secrets or link secrets, even at trace level', async () => {
    let text = '';
    const logs = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const stack = await startStack({ listen: true, env: { SWITCHBOARD_LOG_LEVEL: 'trace' }, logs });
    try {
      // Its own client id: the sandbox's built-in client only takes the built-in secret.
      await stack.createConnection('MY_GMAIL', 'gmail', {
        oauth_client_id: 'log-leak-client',
        oauth_client_secret: 'GOCSPX-log-leak',
        target: 'sandbox',
      });
      const { body } = await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
      });
      expect((await stack.consent(body.link)).status).toBe(200);
      await stack.api('POST', '/api/v1/execute_tool', {
        tool_name: 'gmail_fetch_mails',
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
        params: { max_results: 1 },
      });
      await fetch(`${stack.url}/oauth/callback?state=abc&code=secret-code-123`);
      const row = await stack.db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
      const tokens = stack.services.vault.openTokens(row);
      expect(text).toContain('"route"');
      for (const secret of [
        tokens?.access_token,
        tokens?.refresh_token,
        'GOCSPX-log-leak',
        'secret-code-123',
        body.link.split('/').pop(),
      ]) {
        expect(secret && text.includes(secret), `log contains ${secret?.slice(0, 6)}…`).toBe(false);
      }
      expect(text).not.toContain(await stack.token());
    } finally {
      await stack.close();
    }
  });
});
