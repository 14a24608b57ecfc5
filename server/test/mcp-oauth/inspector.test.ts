import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiConfig, createSeedConfig } from '../mcp/support.js';
import { freePort, type LoopbackServer } from '../support/loopback.js';
import { type Stack, startStack } from '../support/stack.js';
import { serveAppLogin } from './app-login.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts/mcp-inspector');
const packageDir = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`MCP Inspector test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** Starts one of the Inspector's two processes and resolves once it says it listens. */
function startInspectorPart(script: string, env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
}

/**
 * MCP Inspector (0.21, its own web UI and proxy; 0.15 predates path-aware RFC 9728 discovery,
 * never learns the resource behind its proxy and so asks without one) against a config URL: the browser-side OAuth
 * of the Inspector's UI discovers Switchboard from the 401, registers itself, sends the browser
 * through the app's login and Switchboard's consent page, exchanges the code, then lists and
 * calls tools through its proxy with the access token.
 */
describe.skipIf(!hasChromium)('MCP Inspector signs in at a config URL through its OAuth flow', () => {
  let stack: Stack;
  let app: LoopbackServer;
  let config: ApiConfig;
  let browser: Browser;
  let page: Page;
  const children: ChildProcess[] = [];
  let inspectorUrl = '';

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await serveAppLogin(() => stack, 'john-doe');
    stack = await startStack({ listen: true, env: { SWITCHBOARD_MCP_OAUTH_LOGIN_URL: `${app.url}/login` } });
    config = await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'john-doe', 'john.doe@example.com');

    const [proxyPort, clientPort] = [await freePort(), await freePort()];
    const origin = `http://127.0.0.1:${clientPort}`;
    children.push(
      await startInspectorPart(
        join(packageDir('@modelcontextprotocol/inspector-server'), 'build/index.js'),
        {
          SERVER_PORT: String(proxyPort),
          HOST: '127.0.0.1',
          CLIENT_PORT: String(clientPort),
          ALLOWED_ORIGINS: origin,
          DANGEROUSLY_OMIT_AUTH: 'true',
        },
        /Proxy server listening/,
      ),
    );
    children.push(
      await startInspectorPart(
        join(packageDir('@modelcontextprotocol/inspector-client'), 'bin/client.js'),
        { CLIENT_PORT: String(clientPort), HOST: '127.0.0.1', MCP_AUTO_OPEN_ENABLED: 'false' },
        /is up and running/,
      ),
    );
    const start = new URL(origin);
    start.searchParams.set('transport', 'streamable-http');
    start.searchParams.set('serverUrl', config.mcp_server_url);
    start.searchParams.set('MCP_PROXY_FULL_ADDRESS', `http://127.0.0.1:${proxyPort}`);
    inspectorUrl = start.toString();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const child of children) child.kill();
    await stack?.close();
    await app?.close();
  });

  it('connects through discovery, registration, consent and the code exchange, then lists and calls a tool', async () => {
    await page.goto(inspectorUrl);
    await page.getByRole('button', { name: 'Connect' }).click();
    // The Inspector sends the browser to Switchboard's authorize endpoint, the app's login, then consent.
    await page.waitForURL(/\/mcp-oauth\/consent\//, { timeout: 20_000 });
    await shot('consent');
    expect(await page.locator('#client-name').textContent()).toBe('MCP Inspector');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.origin === new URL(inspectorUrl).origin, { timeout: 20_000 });
    await page.getByText('Connected').first().waitFor({ timeout: 20_000 });
    await shot('connected');
    await page.getByRole('tab', { name: 'Tools' }).click();
    await page.getByRole('button', { name: 'List Tools' }).click();
    // The Inspector lists tools by their titles.
    for (const title of ['Fetch emails', 'Create calendar event'])
      await page.getByText(title, { exact: true }).waitFor();
    await shot('listed');
    await page.getByText('Fetch emails', { exact: true }).click();
    await page.getByRole('button', { name: 'Run Tool' }).click();
    await page.getByText('Tool Result: Success').waitFor({ timeout: 20_000 });
    await shot('tool-result');
    const grants = await stack.api<{ grants: { client_name: string }[] }>(
      'GET',
      '/api/v1/mcp/oauth/grants?identifier=john-doe',
    );
    expect(grants.body.grants.map((g) => g.client_name)).toEqual(['MCP Inspector']);
  }, 120_000);
});
