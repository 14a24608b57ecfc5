import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiConfig, createSeedConfig } from '../mcp/support.js';
import { installExternalTools } from '../support/external-tools.js';
import { freePort, type LoopbackServer } from '../support/loopback.js';
import { type Stack, startStack } from '../support/stack.js';
import { serveAppLogin } from './app-login.js';
import { formFields, TestBrowser } from './browser.js';

/**
 * The suite's authorization-server scenarios (`conformance authorization`) ship only in its
 * 0.2.0 alphas; the 0.1.13 in the workspace has client-side auth scenarios only. The alpha's
 * bundle imports fs.globSync (Node 22), so it runs from .tools/ under the npm package node@22.
 */
const SUITE = ['node@22', '@modelcontextprotocol/conformance@0.2.0-alpha.12'];

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

describe('the MCP conformance suite’s authorization-server scenarios (0.2.0-alpha.12)', () => {
  let node22 = '';
  let cli = '';
  let stack: Stack;
  let app: LoopbackServer;
  let config: ApiConfig;
  let dir: string;

  beforeAll(async () => {
    const tools = await installExternalTools('conformance-authorization', SUITE);
    node22 = join(tools, 'node_modules/node/bin/node');
    cli = join(tools, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
    // The app's login page: it knows who is signed in and says so (the hand-off).
    app = await serveAppLogin(() => stack, 'john-doe');
    stack = await startStack({ listen: true, env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: `${app.url}/login` } });
    config = await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'john-doe', 'john.doe@example.com');
    dir = mkdtempSync(join(tmpdir(), 'switchboard-as-conformance-'));
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs the CLI; when it prints the authorization URL, a person would open it: here the test
   * browser signs in through the app, allows on the consent page and lands on the suite's
   * callback server.
   */
  async function runSuite(args: string[]): Promise<{ code: number; output: string; checks: Check[] }> {
    const out = join(dir, `run-${Date.now()}`);
    const child: ChildProcessWithoutNullStreams = spawn(node22, [cli, 'authorization', ...args, '-o', out], {
      cwd: dir,
    });
    let output = '';
    let browsing: Promise<void> | undefined;
    let failure: unknown;
    const browse = async (authorizationUrl: string) => {
      const browser = new TestBrowser();
      const reached = await browser.follow(authorizationUrl, (u) => u.origin !== stack.url && u.origin !== app.url);
      if (!reached.url.pathname.startsWith('/mcp-oauth/consent/')) {
        // Refused at authorize: the error goes back to the suite's callback, which judges it.
        await fetch(reached.url);
        return;
      }
      const html = await reached.response.text();
      const decided = await browser.request(reached.url, {
        form: formFields(html, reached.url.pathname, ['decision', 'allow']),
      });
      await fetch(decided.headers.get('location') ?? '');
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^(http:\/\/\S+\/mcp-oauth\/authorize\?\S+)$/m.exec(output);
      // The URL is printed before the suite's callback server listens.
      if (match?.[1] && output.includes('Callback server started') && !browsing) {
        browsing = browse(match[1]).catch((error: unknown) => {
          failure = error;
          child.kill();
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const code = await new Promise<number>((resolve) => child.on('close', (status) => resolve(status ?? 1)));
    await browsing;
    if (failure) throw failure;
    const checks: Check[] = [];
    for (const scenario of readdirSync(out)) {
      checks.push(...(JSON.parse(readFileSync(join(out, scenario, 'checks.json'), 'utf8')) as Check[]));
    }
    return { code, output, checks };
  }

  async function registeredClient(port: number): Promise<string> {
    const registration = await fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Conformance Suite',
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(registration.status).toBe(201);
    return ((await registration.json()) as { client_id: string }).client_id;
  }

  it('passes every check of the metadata and authorization-code-grant scenarios', async () => {
    const port = await freePort();
    const clientId = await registeredClient(port);
    const run = await runSuite([
      '--url',
      stack.url,
      '--client-id',
      clientId,
      '--resource',
      config.mcp_server_url,
      '--port',
      String(port),
    ]);
    const byId = Object.fromEntries(run.checks.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort(), run.output).toEqual(
      ['authorization-code-grant', 'authorization-server-metadata', 'authorization-server-metadata-cimd'].sort(),
    );
    for (const check of run.checks) expect(check.status, `${check.id}: ${check.errorMessage}`).toBe('SUCCESS');
    expect(run.code, run.output).toBe(0);
  }, 120_000);

  it('fails the grant when the client names no resource, since the config is chosen by it (RFC 8707)', async () => {
    const port = await freePort();
    const clientId = await registeredClient(port);
    const run = await runSuite(['--url', stack.url, '--client-id', clientId, '--port', String(port)]);
    const grant = run.checks.find((c) => c.id === 'authorization-code-grant');
    expect(run.checks.find((c) => c.id === 'authorization-server-metadata')?.status).toBe('SUCCESS');
    expect(grant?.status, run.output).toBe('FAILURE');
    expect(grant?.errorMessage).toMatch(/invalid_target/);
    expect(run.code).toBe(1);
  }, 120_000);
});
