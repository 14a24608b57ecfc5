import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calendar } from '@googleapis/calendar';
import { auth, gmail } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/main.js';
import { freePort } from './support/loopback.js';

const G = 'https://www.googleapis.com/auth/';
const JOHN = 'john.doe@example.com';

describe('the embedded sandbox as `npm start` serves it, reached by Google’s current client libraries', () => {
  let dataDir: string;
  let running: RunningServer;
  let sandboxUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-sandbox-port-'));
    const port = await freePort();
    running = await startServer({
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_LOG_LEVEL: 'silent',
    });
    sandboxUrl = running.sandboxUrl ?? '';
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const token = async (scopes: string[]) => {
    const minted = await fetch(`${sandboxUrl}/__sandbox/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: JOHN, scopes }),
    });
    expect(minted.status).toBe(200);
    const credentials = new auth.OAuth2();
    credentials.setCredentials({ access_token: ((await minted.json()) as { access_token: string }).access_token });
    return credentials;
  };

  it('serves the sandbox at a host root on its own port, and keeps /sandbox', async () => {
    expect(sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(sandboxUrl).port).not.toBe(new URL(running.url).port);
    expect((await fetch(`${sandboxUrl}/.well-known/openid-configuration`)).status).toBe(200);
    expect((await fetch(`${running.url}/sandbox/.well-known/openid-configuration`)).status).toBe(200);
  });

  it('answers @googleapis/gmail 22 and @googleapis/calendar 20', async () => {
    const credentials = await token([`${G}gmail.modify`, `${G}calendar`]);
    const mail = gmail({ version: 'v1', rootUrl: `${sandboxUrl}/`, auth: credentials });
    const profile = await mail.users.getProfile({ userId: 'me' });
    expect(profile.data.emailAddress).toBe(JOHN);
    const listed = await mail.users.messages.list({ userId: 'me', maxResults: 2 });
    expect(listed.status).toBe(200);
    const labels = await mail.users.labels.list({ userId: 'me' });
    expect(labels.data.labels?.map((l) => l.id)).toContain('INBOX');
    const cal = calendar({ version: 'v3', rootUrl: `${sandboxUrl}/`, auth: credentials });
    const calendars = await cal.calendarList.list();
    expect(calendars.data.items?.some((c) => c.primary)).toBe(true);
  });

  it('points sandbox connections at that port: consent there, then a tool call through it', async () => {
    const credentials = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as {
      client_id: string;
      client_secret: string;
    };
    const issued = await fetch(`${running.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...credentials }),
    });
    const { access_token } = (await issued.json()) as { access_token: string };
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${running.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await api('POST', '/connections', { name: 'MY_GMAIL', provider: 'gmail' })).status).toBe(201);
    const link = await api('POST', '/connected_accounts/magic_link', { connector: 'MY_GMAIL', identifier: 'john-doe' });
    const opened = await fetch(String(link.body.link), { redirect: 'manual' });
    const authorize = new URL(opened.headers.get('location') ?? '');
    expect(authorize.origin).toBe(sandboxUrl);
    authorize.searchParams.set('login_hint', JOHN);
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    const decided = await fetch(authorize, { redirect: 'manual' });
    const callback = await fetch(decided.headers.get('location') ?? '', { redirect: 'manual' });
    expect(callback.status).toBe(200);
    const result = await api('POST', '/execute_tool', {
      tool_name: 'gmail_get_profile',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: {},
    });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(JSON.stringify(result.body.data)).toContain(JOHN);
  });
});

/**
 * A free port whose next port this test holds. Other suites bind ports in parallel, so
 * the port after a free one may be anybody's: try again until the hold succeeds.
 */
async function holdNextPort(): Promise<{ port: number; blocker: Server }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const blocker = createServer();
    const held = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(port + 1, '127.0.0.1', () => resolve(true));
    });
    if (held) return { port, blocker };
    if (attempt === 20) throw new Error('no free pair of ports on loopback after 20 tries');
  }
}

describe('the sandbox port rule', () => {
  it('is PORT+1 in the embedded default, chosen by the system with PORT=0, settable, and off in production', () => {
    expect(loadConfig({ PORT: '3000' }).sandbox).toMatchObject({ port: 3001, url: 'http://localhost:3001' });
    expect(loadConfig({ PORT: '0' }).sandbox.port).toBe(0);
    expect(loadConfig({ PORT: '3000', SWITCHBOARD_SANDBOX_PORT: '4010' }).sandbox).toMatchObject({
      port: 4010,
      portIsDefault: false,
    });
    expect(loadConfig({ SWITCHBOARD_SANDBOX_PORT: 'off' }).sandbox).toMatchObject({
      port: undefined,
      url: 'http://localhost:3000/sandbox',
    });
    const production = loadConfig({ SWITCHBOARD_PUBLIC_URL: 'https://sb.example.com', SWITCHBOARD_SANDBOX: 'true' });
    expect(production.sandbox).toMatchObject({ mounted: true, port: undefined, url: 'https://sb.example.com/sandbox' });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).sandbox).toMatchObject({ enabled: false, port: undefined });
    expect(() => loadConfig({ SWITCHBOARD_SANDBOX_PORT: 'sometimes' })).toThrow(/SWITCHBOARD_SANDBOX_PORT/);
  });

  it('gives way to a port the system picks when the default one is taken', async () => {
    const { port, blocker } = await holdNextPort();
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-sandbox-taken-'));
    try {
      const server = await startServer({
        PORT: String(port),
        HOST: '127.0.0.1',
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_LOG_LEVEL: 'silent',
      });
      try {
        expect(server.sandboxUrl).toBeDefined();
        expect(new URL(server.sandboxUrl ?? '').port).not.toBe(String(port + 1));
      } finally {
        await server.stop();
      }
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
