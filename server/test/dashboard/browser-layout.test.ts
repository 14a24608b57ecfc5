import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts/dashboard/layout');

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`dashboard layout tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 860 },
  { name: 'phone', width: 390, height: 844 },
] as const;

describe.skipIf(!hasChromium)('the dashboard at desktop and phone widths, in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let cookies: Awaited<ReturnType<import('playwright-core').BrowserContext['cookies']>>;
  let configId = '';
  const cspViolations: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({ listen: true });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_GMAIL', 'customer-4711-with-a-long-identifier', 'jane.doe@example.com');
    await stack.services.accounts.create('MY_CALENDAR', 'jane-roe');
    await stack.services.accounts.disconnect({
      connector: 'MY_GMAIL',
      identifier: 'customer-4711-with-a-long-identifier',
    });
    const config = await stack.api<{ config: { id: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'reminder-manager',
      connection_tool_mappings: [
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
        { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
      ],
    });
    configId = config.body.config.id;
    await stack.api('POST', '/api/v1/mcp/instances', { config_name: 'reminder-manager', user_identifier: 'john-doe' });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${stack.url}/dashboard/sign-in`);
    await page.getByLabel('Client id').fill(stack.admin.client_id);
    await page.getByLabel('Client secret').fill(stack.admin.client_secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/dashboard\/connections/);
    cookies = await context.cookies();
    await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Opens `path` at a viewport, saves a full-page screenshot, and returns the page for checks. */
  async function open(path: string, name: string, viewport: (typeof VIEWPORTS)[number]): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      ...(viewport.name === 'phone' ? { isMobile: true, hasTouch: true } : {}),
    });
    // The sign-in page is seen signed out (signed in, it sends the visitor on).
    if (!path.startsWith('/dashboard/sign-in')) await context.addCookies(cookies);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(`${name}: ${message.text()}`);
    });
    await page.goto(`${stack.url}${path}`);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${viewport.name}.png`), fullPage: true });
    return page;
  }

  const pages = () => [
    { name: 'accounts', path: '/dashboard/accounts' },
    { name: 'user', path: '/dashboard/user?identifier=john-doe' },
    { name: 'mcp-config', path: `/dashboard/mcp-configs/${configId}` },
    { name: 'connections', path: '/dashboard/connections' },
    { name: 'sign-in', path: '/dashboard/sign-in' },
  ];

  for (const viewport of VIEWPORTS) {
    it(`fits ${viewport.width} px without horizontal overflow, and keeps identifiers and commands on one line`, async () => {
      for (const { name, path } of pages()) {
        const page = await open(path, name, viewport);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(scrollWidth, `${name} at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
        // An identifier, email or word of a command that fits on a line is never broken inside.
        const broken = await page.evaluate(() =>
          [...document.querySelectorAll('main code:not(.command), main .email, main code.command span')]
            .filter((el) => el.getBoundingClientRect().width > 0 && el.getClientRects().length > 1)
            .filter((el) => (el.textContent ?? '').length <= 30)
            .map((el) => el.textContent),
        );
        expect(broken, `${name} at ${viewport.width} px`).toEqual([]);
        if (viewport.name === 'desktop') {
          // At desktop width a table fits its frame; only a phone may scroll one sideways.
          const clipped = await page.evaluate(
            () => [...document.querySelectorAll('.table-wrap')].filter((el) => el.scrollWidth > el.clientWidth).length,
          );
          expect(clipped, `${name}: tables wider than their frame`).toBe(0);
        }
        await page.context().close();
      }
    });
  }

  it('shows the favicon on every page, loaded under the CSP', async () => {
    for (const { name, path } of pages()) {
      const page = await open(path, `${name}-icon`, VIEWPORTS[0]);
      const loaded = await page.evaluate(async () => {
        const href = document.querySelector('link[rel="icon"]')?.getAttribute('href');
        if (!href) return 'no icon link';
        const image = new Image();
        image.src = href;
        try {
          await image.decode();
          return image.naturalWidth > 0 ? 'ok' : 'empty';
        } catch {
          return 'failed';
        }
      });
      expect(loaded, name).toBe('ok');
      await page.context().close();
    }
    expect(cspViolations).toEqual([]);
  });

  it('filters the accounts list by status and finds an account by its Google email', async () => {
    const page = await open('/dashboard/accounts', 'accounts-filter', VIEWPORTS[1]);
    await page.getByLabel('Status').selectOption('DISCONNECTED');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=DISCONNECTED/);
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('customer-4711-with-a-long-identifier');
    // The status once, not "DISCONNECTED disconnected".
    expect((await rows.first().locator('td[data-label="Status"]').textContent())?.trim()).toBe('DISCONNECTED');
    await page.goto(`${stack.url}/dashboard/accounts`);
    await page.getByLabel('Search').fill('john.doe@');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/q=john/);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'accounts-search-phone.png'), fullPage: true });
    await page.context().close();
  });
});
