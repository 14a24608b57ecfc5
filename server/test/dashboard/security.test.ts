import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { DashboardClient } from './dashboard-client.js';

const PAGES = [
  '/dashboard',
  '/dashboard/connections',
  '/dashboard/mcp-configs',
  '/dashboard/users',
  '/dashboard/logs',
  '/dashboard/user?identifier=john-doe',
];
const XSS = '<script>alert(1)</script>';

describe('dashboard security', () => {
  let stack: Stack;
  const clock = { at: Date.now(), now: () => clock.at };

  beforeAll(async () => {
    stack = await startStack({ clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  it('redirects every page to sign-in without a session, and refuses forms', async () => {
    const anonymous = new DashboardClient(stack);
    for (const path of PAGES) {
      const response = await anonymous.get(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location')).toBe(`/dashboard/sign-in?next=${encodeURIComponent(path)}`);
    }
    const post = await anonymous.post('/dashboard/connections/x/delete', { _csrf: 'anything' });
    expect(post.status).toBe(401);
    const forged = new DashboardClient(stack);
    forged.cookies.set('sb_session', 'made-up-session-id');
    expect((await forged.get('/dashboard/connections')).status).toBe(303);
  });

  it('refuses wrong credentials and a sign-in form without its token', async () => {
    const client = new DashboardClient(stack);
    const form = await (await client.get('/dashboard/sign-in')).text();
    const token = DashboardClient.hidden(form, '_csrf');
    const wrong = await client.post('/dashboard/sign-in', {
      _csrf: token,
      client_id: stack.admin.client_id,
      client_secret: 'sbs_wrong',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Those credentials are not valid');
    const noToken = await client.post('/dashboard/sign-in', {
      client_id: stack.admin.client_id,
      client_secret: stack.admin.client_secret,
    });
    expect(noToken.status).toBe(403);
    const otherOrigin = await client.post(
      '/dashboard/sign-in',
      { _csrf: token, client_id: stack.admin.client_id, client_secret: stack.admin.client_secret },
      { origin: 'https://evil.example' },
    );
    expect(otherOrigin.status).toBe(403);
    expect(client.cookies.has('sb_session')).toBe(false);
  });

  it('issues a new HttpOnly SameSite session id at sign-in and ignores one planted before (no fixation)', async () => {
    const client = new DashboardClient(stack);
    client.cookies.set('sb_session', 'planted-by-an-attacker');
    const form = await (await client.get('/dashboard/sign-in')).text();
    const response = await client.post('/dashboard/sign-in', {
      _csrf: DashboardClient.hidden(form, '_csrf'),
      client_id: stack.admin.client_id,
      client_secret: stack.admin.client_secret,
    });
    expect(response.status).toBe(303);
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('sb_session='));
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Path=\//);
    const first = client.cookies.get('sb_session');
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe('planted-by-an-attacker');

    // Each sign-in gets its own id, and the table keeps only a digest of it.
    const other = new DashboardClient(stack);
    await other.signIn();
    expect(other.cookies.get('sb_session')).not.toBe(first);
    const stored = await stack.db.db.selectFrom('dashboard_sessions').select('id_hash').execute();
    expect(stored.map((row) => row.id_hash)).not.toContain(first);
    expect(stored.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses unsafe requests with a missing or wrong CSRF token, or from another origin, with 403', async () => {
    const client = new DashboardClient(stack);
    const token = await client.signIn();
    const connection = await stack.services.connections.getByName('MY_GMAIL');
    const target = `/dashboard/connections/${connection.id}/delete`;

    expect((await client.post(target, {})).status).toBe(403);
    expect((await client.post(target, { _csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await client.post(target, { _csrf: token }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await client.post(target, { _csrf: token }, { origin: '', 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    );
    const other = new DashboardClient(stack);
    const otherToken = await other.signIn();
    expect((await client.post(target, { _csrf: otherToken })).status).toBe(403);
    expect((await client.post('/dashboard/sign-out', {})).status).toBe(403);
    expect(await stack.services.connections.findByName('MY_GMAIL')).toBeDefined();

    // The header form that the page's script uses works the same way.
    const reveal = await client.post(
      '/dashboard/instances/inst_missing/reveal',
      {},
      { 'x-csrf-token': 'wrong', accept: 'application/json' },
    );
    expect(reveal.status).toBe(403);
  });

  it('signs out, after which the old cookie is dead', async () => {
    const client = new DashboardClient(stack);
    const token = await client.signIn();
    const cookie = client.cookies.get('sb_session') ?? '';
    const out = await client.post('/dashboard/sign-out', { _csrf: token });
    expect(out.status).toBe(303);
    const replay = new DashboardClient(stack);
    replay.cookies.set('sb_session', cookie);
    expect((await replay.get('/dashboard/connections')).status).toBe(303);
  });

  it('ends a session after 30 idle minutes but keeps an active one alive', async () => {
    const client = new DashboardClient(stack);
    await client.signIn();
    clock.at += 20 * 60_000;
    expect((await client.get('/dashboard/connections')).status).toBe(200);
    clock.at += 20 * 60_000;
    expect((await client.get('/dashboard/connections')).status).toBe(200);
    clock.at += 31 * 60_000;
    const expired = await client.get('/dashboard/connections');
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toMatch(/^\/dashboard\/sign-in/);
  });

  it('ends a session 12 hours after sign-in however active it stays', async () => {
    const client = new DashboardClient(stack);
    await client.signIn();
    // A request every 20 minutes keeps the idle timer from ever running out.
    for (let elapsed = 0; elapsed < 11 * 60 + 40; elapsed += 20) {
      clock.at += 20 * 60_000;
      expect((await client.get('/dashboard/connections')).status, `after ${elapsed + 20} minutes`).toBe(200);
    }
    clock.at += 21 * 60_000;
    const expired = await client.get('/dashboard/connections');
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toMatch(/^\/dashboard\/sign-in/);
  });

  it('serves pages with a strict CSP and no inline script', async () => {
    const client = new DashboardClient(stack);
    await client.signIn();
    const response = await client.get('/dashboard/connections');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.text();
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(body).not.toContain('sandbox-secret');
  });

  it('escapes a <script> identifier and tool name on the users and logs pages', async () => {
    const called = await stack.api('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: XSS,
      params: { query: XSS },
    });
    expect(called.status).toBe(409);
    const client = new DashboardClient(stack);
    await client.signIn();
    const users = await (await client.get('/dashboard/users?q=script')).text();
    expect(users).not.toContain(XSS);
    expect(users).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    const user = await (await client.get(`/dashboard/user?identifier=${encodeURIComponent(XSS)}`)).text();
    expect(user).not.toContain(XSS);
    const logs = await (await client.get('/dashboard/logs')).text();
    expect(logs).not.toContain(XSS);
    expect(logs).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });
});

describe('dashboard behind https', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_PUBLIC_URL: 'https://switchboard.example' } });
  });
  afterAll(() => stack?.close());

  it('uses a __Host- prefixed Secure cookie', async () => {
    const client = new DashboardClient(stack);
    const form = await (await client.get('/dashboard/sign-in')).text();
    const response = await client.post('/dashboard/sign-in', {
      _csrf: DashboardClient.hidden(form, '_csrf'),
      client_id: stack.admin.client_id,
      client_secret: stack.admin.client_secret,
    });
    expect(response.status).toBe(303);
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('__Host-sb_session='));
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).not.toMatch(/Domain=/i);
  });
});
