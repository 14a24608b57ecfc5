import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts/dashboard');
const XSS = '<script>alert(1)</script>';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

describe.skipIf(!hasChromium)('the dashboard in a real browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  const shot = async (name: string, target: Page = page) => {
    await target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({ listen: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('dialog', async (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      // Only the dashboard's own confirmations are expected; accept those.
      await (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('sends an anonymous visitor to sign-in and signs in with API client credentials', async () => {
    await page.goto(`${stack.url}/dashboard/logs`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await shot('sign-in');
    await page.getByLabel('Client id').fill(stack.admin.client_id);
    await page.getByLabel('Client secret').fill(stack.admin.client_secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/dashboard\/logs/);
    const cookie = (await context.cookies()).find((c) => c.name === 'sb_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
  });

  it('creates MY_GMAIL and MY_CALENDAR on the sandbox from the provider catalog', async () => {
    for (const [name, provider] of [
      ['MY_GMAIL', 'Gmail'],
      ['MY_CALENDAR', 'Google Calendar'],
    ] as const) {
      await page.goto(`${stack.url}/dashboard/connections`);
      await page.getByRole('link', { name: 'New connection' }).click();
      await page.getByRole('listitem').filter({ hasText: provider }).first().click();
      await page.getByLabel('Name', { exact: true }).fill(name);
      expect(await page.getByLabel('Scopes').inputValue()).toContain('https://www.googleapis.com/auth/');
      await expect.poll(() => page.getByLabel('Sandbox').isChecked()).toBe(true);
      if (name === 'MY_GMAIL') await shot('connection-new');
      await page.getByRole('button', { name: 'Create connection' }).click();
      await page.waitForURL(/notice=connection-created/);
    }
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.locator('#redirect-uri').textContent()).toBe(`${stack.url}/oauth/callback`);
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    await shot('connections');
  });

  it('edits a connection and asks for confirmation before deleting one', async () => {
    await page.goto(`${stack.url}/dashboard/connections`);
    await page.getByRole('link', { name: 'Edit MY_CALENDAR' }).click();
    await page
      .getByLabel('Scopes')
      .fill('https://www.googleapis.com/auth/calendar\nhttps://www.googleapis.com/auth/calendar.events');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/notice=connection-updated/);
    const row = await stack.services.connections.getByName('MY_CALENDAR');
    expect(JSON.parse(row.scopes)).toHaveLength(2);

    await page.goto(`${stack.url}/dashboard/connections/new?provider=gmail`);
    await page.getByLabel('Name', { exact: true }).fill('bad name!');
    await page.evaluate(() => document.querySelector('form.panel')?.setAttribute('novalidate', ''));
    await page.getByRole('button', { name: 'Create connection' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('name:');

    await page.goto(`${stack.url}/dashboard/connections`);
    await page.getByRole('link', { name: 'Delete MY_CALENDAR' }).click();
    await shot('connection-delete');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Delete connection');
    await page.getByRole('link', { name: 'Cancel' }).click();
    expect(await stack.services.connections.findByName('MY_CALENDAR')).toBeDefined();
  });

  it('creates reminder-manager with the tool picker', async () => {
    await page.goto(`${stack.url}/dashboard/mcp-configs/new`);
    await page.getByLabel('Name', { exact: true }).fill('reminder-manager');
    await page.getByLabel('Description', { exact: true }).fill('Reads mail and creates reminder events');
    const gmail = page.locator('fieldset[data-tool-picker]').filter({ hasText: 'MY_GMAIL' });
    await gmail.getByLabel('Search the tools of MY_GMAIL').fill('fetch_mails');
    const all = await gmail.locator('li[data-search]').count();
    const visible = gmail.locator('li[data-search]:visible');
    await expect.poll(() => visible.count()).toBeLessThan(all);
    expect(await visible.filter({ hasText: 'gmail_list_labels' }).count()).toBe(0);
    await gmail.getByLabel('Selected tools').check();
    await gmail.getByRole('checkbox', { name: 'gmail_fetch_mails' }).check();
    expect(await gmail.locator('[data-count]').textContent()).toBe(`1 of ${all} selected`);

    const calendar = page.locator('fieldset[data-tool-picker]').filter({ hasText: 'MY_CALENDAR' });
    const calendarCount = calendar.locator('[data-count]');
    await calendar.getByRole('button', { name: 'Select all shown' }).click();
    expect(await calendar.getByLabel('Selected tools').isChecked()).toBe(true);
    expect(await calendarCount.textContent()).toMatch(/^(\d+) of \1 selected$/);
    await calendar.getByRole('button', { name: 'Clear shown' }).click();
    expect(await calendarCount.textContent()).toMatch(/^0 of \d+ selected$/);
    await calendar.getByRole('checkbox', { name: 'googlecalendar_create_event' }).check();
    expect(await calendar.getByText('destructive').count()).toBeGreaterThan(0);
    expect(await calendar.getByText('read-only').count()).toBeGreaterThan(0);
    await shot('mcp-config-new');
    await page.getByRole('button', { name: 'Create MCP config' }).click();
    await page.waitForURL(/notice=config-created/);
    const config = await stack.db.db
      .selectFrom('mcp_configs')
      .select('id')
      .where('name', '=', 'reminder-manager')
      .executeTakeFirstOrThrow();
    expect(await page.locator('#server-url').textContent()).toBe(`${stack.url}/mcp/c/${config.id}`);
    const mappings = await stack.db.db.selectFrom('mcp_config_mappings').select('tools').orderBy('position').execute();
    expect(mappings.flatMap((m) => JSON.parse(m.tools) as string[]).sort()).toEqual([
      'gmail_fetch_mails',
      'googlecalendar_create_event',
    ]);
    await page.goto(`${stack.url}/dashboard/mcp-configs`);
    await shot('mcp-configs');
  });

  let instanceUrl = '';

  it("connects a user's Gmail through the authentication link and the sandbox consent page", async () => {
    const ensured = await stack.api<{ instance: { url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'reminder-manager',
      user_identifier: 'john-doe',
    });
    expect(ensured.status).toBe(201);

    await page.goto(`${stack.url}/dashboard/users`);
    await page.getByLabel('Open a user by exact identifier').fill('john-doe');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByLabel('Connect another connection').selectOption({ label: 'MY_GMAIL (Gmail)' });
    await page.getByRole('button', { name: 'Create authentication link' }).click();
    const link = (await page.locator('#auth-link').textContent()) ?? '';
    expect(link).toMatch(new RegExp(`^${stack.url}/connect/`));
    await shot('user-auth-link');

    const consent = await context.newPage();
    await consent.goto(link);
    await consent.getByLabel(/john\.doe@example\.com/).check();
    await shot('sandbox-consent', consent);
    await consent.getByRole('button', { name: 'Allow' }).click();
    await consent.waitForURL(/\/oauth\/callback/);
    expect(await consent.getByRole('heading', { level: 1 }).textContent()).toBe('Gmail is connected');
    await consent.close();

    await page.goto(`${stack.url}/dashboard/user?identifier=john-doe`);
    const row = page.locator('section[aria-labelledby="accounts-title"] tbody tr').filter({ hasText: 'MY_GMAIL' });
    expect(await row.locator('.badge').first().textContent()).toBe('ACTIVE');
    expect(await row.textContent()).toContain('john.doe@example.com');

    // The instance URL stays hidden until asked for, then comes from a CSRF-checked POST.
    expect(await page.content()).not.toContain(ensured.body.instance.url);
    const copyUrl = page.locator('button[data-copy^="url-inst_"]');
    expect(await copyUrl.isVisible()).toBe(false);
    await page.getByRole('button', { name: /^Reveal the URL of instance default/ }).click();
    const revealed = page.locator('code[id^="url-inst_"]');
    await expect.poll(() => revealed.textContent()).toBe(ensured.body.instance.url);
    expect(await copyUrl.isVisible()).toBe(true);
    instanceUrl = ensured.body.instance.url;
    await shot('user');
  });

  it('shows a tool call made over MCP in the logs, with a chart', async () => {
    const client = new Client({ name: 'dashboard-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(instanceUrl)));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['gmail_fetch_mails', 'googlecalendar_create_event']);
    const result = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect(result.isError ?? false).toBe(false);
    await client.close();

    await page.goto(`${stack.url}/dashboard/logs`);
    const row = page.locator('tbody tr').filter({ hasText: 'gmail_fetch_mails' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('SUCCESS');
    expect(await row.textContent()).toContain('MCP');
    expect(await row.textContent()).toMatch(/\d+ ms/);
    expect(await page.locator('svg[role="img"] rect').count()).toBeGreaterThan(0);
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=FAILED/);
    expect(await page.getByText('No tool calls match.').isVisible()).toBe(true);
    await page.goto(`${stack.url}/dashboard/logs`);
    await shot('logs');
  });

  it('rotates an instance URL (the old one stops working) and disconnects an account', async () => {
    await page.goto(`${stack.url}/dashboard/user?identifier=john-doe`);
    const confirmations = dialogs.length;
    await page.getByRole('button', { name: /^Rotate the URL of instance default/ }).click();
    const shown = page.locator('code[id^="url-inst_"]');
    await expect.poll(() => shown.textContent()).not.toBe('');
    const rotated = (await shown.textContent()) ?? '';
    expect(rotated).not.toBe(instanceUrl);
    expect(dialogs.slice(confirmations)).toEqual(['confirm: Issue a new URL? The current URL stops working at once.']);
    const old = await fetch(instanceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(old.status).toBe(404);

    await page.getByRole('button', { name: 'Disconnect MY_GMAIL' }).click();
    await page.waitForURL(/notice=disconnected/);
    const row = page.locator('section[aria-labelledby="accounts-title"] tbody tr').filter({ hasText: 'MY_GMAIL' });
    expect(await row.locator('.badge').first().textContent()).toBe('DISCONNECTED');
  });

  it('renders a <script> identifier and tool argument inert on the users and logs pages', async () => {
    await stack.api('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: XSS,
      params: { query: XSS },
    });
    const before = dialogs.length;
    await page.goto(`${stack.url}/dashboard/users?q=${encodeURIComponent('script')}`);
    expect(await page.getByRole('link', { name: XSS }).count()).toBe(1);
    await page.getByRole('link', { name: XSS }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`User ${XSS}`);
    await page.goto(`${stack.url}/dashboard/logs`);
    expect(await page.getByRole('link', { name: XSS }).count()).toBeGreaterThan(0);
    await shot('logs-xss');
    expect(dialogs.slice(before)).toEqual([]);
    expect(await page.evaluate(() => document.querySelectorAll('main script').length)).toBe(0);
  });

  it('is usable on a phone and by keyboard', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.addCookies(await context.cookies());
    const mobile = await phone.newPage();
    await mobile.goto(`${stack.url}/dashboard/connections`);
    const overflow = await mobile.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('connections-phone', mobile);
    await mobile.goto(`${stack.url}/dashboard/logs`);
    await shot('logs-phone', mobile);
    await phone.close();

    await page.goto(`${stack.url}/dashboard/connections`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('content');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/dashboard\/sign-in/);
    await page.goto(`${stack.url}/dashboard/connections`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
  });
});
