import { type Context, Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/auth/api-clients.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Services } from '../../src/context.js';
import { hashSecret } from '../../src/crypto/random.js';
import { isUnsafe, presentedToken, sameOrigin, validCsrf } from '../../src/dashboard/csrf.js';
import { cookieNames, type DashboardEnv, DashboardSessions } from '../../src/dashboard/session.js';
import { registerSignIn, safeNext } from '../../src/dashboard/sign-in.js';
import { AppError, isAppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { RateLimiter } from '../../src/rate-limits/rate-limiter.js';
import { manualClock } from '../support/clock.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';

const MINUTE = 60_000;
const HTTP_URL = 'http://switchboard.localhost';
const HTTPS_URL = 'https://switchboard.example';
/** A session cookie's and a CSRF token's shape: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function configFor(publicUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '3000',
    SWITCHBOARD_PUBLIC_URL: publicUrl,
    SWITCHBOARD_LOG_LEVEL: 'silent',
    ...env,
  });
}

type Fields = Record<string, string | string[]>;

/** A cookie-keeping client of an app in process, as a browser without script would be. */
class Browser {
  readonly cookies = new Map<string, string>();

  constructor(
    private readonly app: Hono,
    readonly origin: string,
  ) {}

  /** A request to `path`; a POST of `form` sends this origin's Origin header unless `headers` says otherwise. */
  async request(
    path: string,
    options: { method?: string; form?: Fields; headers?: Record<string, string | undefined>; body?: string } = {},
  ): Promise<Response> {
    const headers = new Headers();
    const given = { ...(options.form ? { origin: this.origin } : {}), ...options.headers };
    for (const [name, value] of Object.entries(given)) if (value !== undefined) headers.set(name, value);
    if (this.cookies.size)
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    let body: string | undefined = options.body;
    if (options.form) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(options.form))
        for (const one of [value].flat()) params.append(name, one);
      body = params.toString();
      headers.set('content-type', 'application/x-www-form-urlencoded');
    }
    const method = options.method ?? (body === undefined ? 'GET' : 'POST');
    const response = await this.app.request(`${this.origin}${path}`, { method, headers, body });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
    return response;
  }

  /** The Set-Cookie line of `name` in `response`. */
  static setCookie(response: Response, name: string): string | undefined {
    return response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
  }
}

/** The value of the hidden input `name` in a page. */
function hidden(page: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];
}

/**
 * csrf.ts and safeNext: pure rules of a request, no database (issue 18's mutation testing of the
 * dashboard's sign-in, sessions and CSRF, module dashboard-auth).
 */
describe('the dashboard’s request rules', () => {
  const config = configFor(HTTPS_URL);
  /** Each check alone, answered as JSON; `x-expected` is the token the session would hold. */
  const probe = new Hono();
  probe.all('/same-origin', (c) => c.json({ sameOrigin: sameOrigin(c, config) }));
  probe.all('/token', async (c) => c.json({ token: (await presentedToken(c, 1024)) ?? null }));
  probe.all('/valid', async (c) => c.json({ valid: await validCsrf(c, config, c.req.header('x-expected') ?? '') }));
  const ask = async (url: string, init: RequestInit = {}) =>
    (await (await probe.request(url, init)).json()) as Record<string, unknown>;
  const fromHere = (headers: Record<string, string>) => ask(`${HTTPS_URL}/same-origin`, { headers });

  it('counts GET, HEAD and OPTIONS as safe in any case, every other method as unsafe', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get', 'Head', 'options'])
      expect(isUnsafe(method), method).toBe(false);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'TRACE'])
      expect(isUnsafe(method), method).toBe(true);
  });

  it('takes an Origin of the public URL or of the address the browser used, and nothing else', async () => {
    expect(await fromHere({ origin: HTTPS_URL })).toEqual({ sameOrigin: true });
    // Reached under another name (a LAN address): that origin counts too.
    expect(await ask('http://10.0.0.5:3000/same-origin', { headers: { origin: 'http://10.0.0.5:3000' } })).toEqual({
      sameOrigin: true,
    });
    expect(await ask('http://10.0.0.5:3000/same-origin', { headers: { origin: HTTPS_URL } })).toEqual({
      sameOrigin: true,
    });
    for (const origin of ['https://evil.example', 'http://switchboard.example', 'null', '', `${HTTPS_URL}:444`]) {
      expect(await fromHere({ origin }), origin).toEqual({ sameOrigin: false });
    }
  });

  it('refuses a request the browser calls cross-site, whatever its Origin', async () => {
    expect(await fromHere({ origin: HTTPS_URL, 'sec-fetch-site': 'cross-site' })).toEqual({ sameOrigin: false });
    expect(await fromHere({ origin: HTTPS_URL, 'sec-fetch-site': 'same-origin' })).toEqual({ sameOrigin: true });
    expect(await fromHere({ origin: HTTPS_URL, 'sec-fetch-site': 'same-site' })).toEqual({ sameOrigin: true });
  });

  it('falls back to the Referer only without an Origin, and refuses a request that names neither', async () => {
    expect(await fromHere({ referer: `${HTTPS_URL}/dashboard/connections?x=1` })).toEqual({ sameOrigin: true });
    expect(await fromHere({ referer: 'https://evil.example/dashboard' })).toEqual({ sameOrigin: false });
    expect(await fromHere({ referer: 'not a url' })).toEqual({ sameOrigin: false });
    expect(await fromHere({ referer: '' })).toEqual({ sameOrigin: false });
    expect(await fromHere({})).toEqual({ sameOrigin: false });
    // An Origin, even a wrong one, is what counts when both are sent.
    expect(await fromHere({ origin: 'https://evil.example', referer: `${HTTPS_URL}/dashboard` })).toEqual({
      sameOrigin: false,
    });
  });

  it('reads the token from the x-csrf-token header first, else from the _csrf form field once', async () => {
    const form = (body: string, headers: Record<string, string> = {}) =>
      ask(`${HTTPS_URL}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    expect(await form('_csrf=from-form')).toEqual({ token: 'from-form' });
    expect(await form('_csrf=from-form', { 'x-csrf-token': 'from-header' })).toEqual({ token: 'from-header' });
    expect(await form('_csrf=from-form', { 'x-csrf-token': '' })).toEqual({ token: 'from-form' });
    // Sent twice, the field is no token at all.
    expect(await form('_csrf=a&_csrf=a')).toEqual({ token: null });
    expect(await form('csrf=a&other=b')).toEqual({ token: null });
    expect(
      await ask(`${HTTPS_URL}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"_csrf":"a"}',
      }),
    ).toEqual({ token: null });
  });

  it('accepts an unsafe request only from this origin with exactly the session’s token', async () => {
    const expected = 'k'.repeat(43);
    const post = (fields: string, headers: Record<string, string>) =>
      ask(`${HTTPS_URL}/valid`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-expected': expected, ...headers },
        body: fields,
      });
    expect(await post(`_csrf=${expected}`, { origin: HTTPS_URL })).toEqual({ valid: true });
    expect(await post('', { origin: HTTPS_URL, 'x-csrf-token': expected })).toEqual({ valid: true });
    expect(await post(`_csrf=${expected}`, { origin: 'https://evil.example' })).toEqual({ valid: false });
    expect(await post(`_csrf=${expected}`, {})).toEqual({ valid: false });
    expect(await post('', { origin: HTTPS_URL })).toEqual({ valid: false });
    expect(await post(`_csrf=${'k'.repeat(42)}j`, { origin: HTTPS_URL })).toEqual({ valid: false });
    expect(await post(`_csrf=${'k'.repeat(42)}`, { origin: HTTPS_URL })).toEqual({ valid: false });
    expect(await post(`_csrf=${expected}k`, { origin: HTTPS_URL })).toEqual({ valid: false });
  });

  it('sends the signed-in browser on only to a dashboard path of this server, query kept, fragment dropped', () => {
    const cases: [string | undefined, string][] = [
      [undefined, '/dashboard'],
      ['', '/dashboard'],
      ['/dashboard', '/dashboard'],
      ['/dashboard/', '/dashboard/'],
      ['/dashboard?tab=2', '/dashboard?tab=2'],
      ['/dashboard/logs?q=a%20b&page=2#top', '/dashboard/logs?q=a%20b&page=2'],
      ['dashboard/logs', '/dashboard'],
      ['https://evil.example/dashboard/logs', '/dashboard'],
      [`${HTTPS_URL}/dashboard/logs`, '/dashboard'],
      ['//evil.example/dashboard/logs', '/dashboard'],
      ['//switchboard.example/dashboard/logs', '/dashboard'],
      ['/\\evil.example/dashboard/logs', '/dashboard'],
      ['/dashboard/a\\b', '/dashboard'],
      // The parser drops the tab: another host, whose path alone would pass.
      ['/\t/evil.example/dashboard/logs', '/dashboard'],
      ['/dashboards', '/dashboard'],
      ['/api/v1/connections', '/dashboard'],
      ['/x/dashboard/logs', '/dashboard'],
      ['/dashboard/../api/v1', '/dashboard'],
    ];
    for (const [value, expected] of cases) expect(safeNext(value, HTTPS_URL), String(value)).toBe(expected);
  });
});

describe.each(ENGINES)('dashboard sign-in and sessions on %s', (engine) => {
  const clock = manualClock();
  let database: TestDatabase;
  const logger = createLogger('silent');

  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(() => database?.close());

  const http = () => configFor(HTTP_URL, { SWITCHBOARD_RATE_LIMIT_SIGN_IN: '3/60', SWITCHBOARD_TRUST_PROXY: 'true' });
  const https = () => configFor(HTTPS_URL);

  /**
   * The sign-in pages as the dashboard registers them, plus pages that call the sessions
   * directly: /start (a session for the client in the JSON body), /current, /sign-out and
   * /guarded (the session's CSRF check, as every dashboard form gets it).
   */
  function harness(
    config: Config,
    options: { sessions?: DashboardSessions; rateLimiter?: Pick<RateLimiter, 'consume'> } = {},
  ) {
    const sessions = options.sessions ?? new DashboardSessions({ db: database.db, engine, clock, config });
    const rateLimiter = (options.rateLimiter ?? new RateLimiter({ config, clock, logger })) as RateLimiter;
    const services = { config, db: database.db, rateLimiter } as Pick<Services, 'config' | 'db' | 'rateLimiter'>;
    const dashboard = new Hono<DashboardEnv>();
    registerSignIn(dashboard, services as Services, sessions);
    dashboard.post('/start', async (c) => c.json({ started: await sessions.start(c, await c.req.json()) }));
    dashboard.get('/current', async (c) => c.json({ session: (await sessions.current(c)) ?? null }));
    dashboard.post('/sign-out', async (c) => {
      await sessions.end(c, await sessions.current(c));
      return c.body(null, 204);
    });
    dashboard.post('/guarded', async (c) => {
      const session = await sessions.current(c);
      return c.json({ valid: session ? await validCsrf(c, config, session.csrfToken) : null });
    });
    dashboard.onError((error, c) => c.text(error.message, isAppError(error) ? (error.status as 400) : 500));
    const app = new Hono();
    app.route('/dashboard', dashboard);
    return { browser: () => new Browser(app, new URL(config.publicUrl).origin) };
  }

  let clients = 0;
  const newClient = (scope: 'admin' | 'read' = 'admin') =>
    createApiClient(database.db, clock, `dashboard-${++clients}`, { scope });
  const rows = (apiClientId: string) =>
    database.db
      .selectFrom('dashboard_sessions')
      .selectAll()
      .where('api_client_id', '=', apiClientId)
      .orderBy('created_at')
      .execute();
  const rowOf = (token: string | undefined) =>
    database.db
      .selectFrom('dashboard_sessions')
      .selectAll()
      .where('id_hash', '=', hashSecret(token ?? ''))
      .executeTakeFirst();
  const iso = (ms: number) => new Date(ms).toISOString();
  const start = async (browser: Browser, client: { id: string }, tokenVersion = 0) => {
    const response = await browser.request('/dashboard/start', {
      method: 'POST',
      body: JSON.stringify({ id: client.id, tokenVersion }),
    });
    return { response, started: ((await response.json()) as { started: boolean }).started };
  };
  const current = async (browser: Browser) =>
    ((await (await browser.request('/dashboard/current')).json()) as { session: Record<string, unknown> | null })
      .session;
  /** The sign-in form as a browser gets it: its page and the token of its hidden field. */
  const signInForm = async (browser: Browser, next?: string) => {
    const response = await browser.request(`/dashboard/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    const page = await response.text();
    return { response, page, csrf: hidden(page, '_csrf') ?? '' };
  };
  const signIn = async (browser: Browser, fields: Fields, headers: Record<string, string | undefined> = {}) => {
    const response = await browser.request('/dashboard/sign-in', { form: fields, headers });
    return { response, page: response.status === 303 ? '' : await response.text() };
  };

  describe('sessions', () => {
    it('names the cookies __Host- and marks them Secure only when the public URL is https', () => {
      expect(cookieNames(http())).toEqual({ secure: false, session: 'sb_session', signIn: 'sb_signin' });
      expect(cookieNames(https())).toEqual({ secure: true, session: '__Host-sb_session', signIn: '__Host-sb_signin' });
      expect(cookieNames(configFor('http://https.localhost')).secure).toBe(false);
    });

    it('starts a session: a random HttpOnly SameSite=Lax cookie, and a row of its hash that ends 12 hours later', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      const { response, started } = await start(browser, client);
      expect(started).toBe(true);
      const token = browser.cookies.get('sb_session');
      expect(token).toMatch(TOKEN);
      expect(Browser.setCookie(response, 'sb_session')).toBe(`sb_session=${token}; Path=/; HttpOnly; SameSite=Lax`);
      const now = clock.now();
      const [row, ...more] = await rows(client.id);
      expect(more).toEqual([]);
      expect(row).toEqual({
        id_hash: hashSecret(token ?? ''),
        api_client_id: client.id,
        csrf_token: expect.stringMatching(TOKEN),
        created_at: iso(now),
        last_seen_at: iso(now),
        expires_at: iso(now + 12 * 60 * MINUTE),
      });
      expect(row?.csrf_token).not.toBe(token);
    });

    it('sets a __Host- Secure cookie behind https', async () => {
      const client = await newClient();
      const browser = harness(https()).browser();
      const { response, started } = await start(browser, client);
      expect(started).toBe(true);
      const token = browser.cookies.get('__Host-sb_session');
      expect(token).toMatch(TOKEN);
      expect(Browser.setCookie(response, '__Host-sb_session')).toBe(
        `__Host-sb_session=${token}; Path=/; HttpOnly; Secure; SameSite=Lax`,
      );
      expect(await current(browser)).toMatchObject({ apiClientId: client.id });
      // The http name is not read behind https.
      const plain = harness(https()).browser();
      plain.cookies.set('sb_session', token ?? '');
      expect(await current(plain)).toBeNull();
    });

    it('starts no session for a revoked client, an unknown one, or one whose secret was rotated since the check', async () => {
      const browser = harness(http()).browser();
      const revoked = await newClient();
      await database.db
        .updateTable('api_clients')
        .set({ revoked_at: iso(clock.now()) })
        .where('id', '=', revoked.id)
        .execute();
      const rotated = await newClient();
      await database.db.updateTable('api_clients').set({ token_version: 1 }).where('id', '=', rotated.id).execute();
      for (const [client, version] of [
        [revoked, 0],
        [{ id: 'cli_unknown' }, 0],
        [rotated, 0],
      ] as const) {
        const { response, started } = await start(browser, client, version);
        expect(started, client.id).toBe(false);
        expect(response.headers.getSetCookie()).toEqual([]);
      }
      expect(await rows(revoked.id)).toEqual([]);
      expect(await rows(rotated.id)).toEqual([]);
      // At the version it has now, the rotated client may start one.
      expect((await start(browser, rotated, 1)).started).toBe(true);
    });

    it('never reuses the presented session id, and ends the session that cookie named', async () => {
      const client = await newClient();
      const site = harness(http());
      const browser = site.browser();
      await start(browser, client);
      const first = browser.cookies.get('sb_session');
      const bystander = site.browser();
      await start(bystander, client);
      await start(browser, client);
      const second = browser.cookies.get('sb_session');
      expect(second).toMatch(TOKEN);
      expect(second).not.toBe(first);
      expect(await rowOf(first)).toBeUndefined();
      expect(await rowOf(second)).toBeDefined();
      expect(await rowOf(bystander.cookies.get('sb_session'))).toBeDefined();
      // A planted id is never adopted.
      const planted = site.browser();
      planted.cookies.set('sb_session', 'p'.repeat(43));
      await start(planted, client);
      expect(planted.cookies.get('sb_session')).not.toBe('p'.repeat(43));
      expect(await rowOf('p'.repeat(43))).toBeUndefined();
    });

    it('sweeps out sessions past their end or idle for 30 minutes when one starts, to the millisecond', async () => {
      const client = await newClient();
      const now = clock.now();
      const row = (name: string, lastSeen: number, expires: number) => ({
        id_hash: hashSecret(name),
        api_client_id: client.id,
        csrf_token: name,
        created_at: iso(now - 60 * MINUTE),
        last_seen_at: iso(lastSeen),
        expires_at: iso(expires),
      });
      await database.db
        .insertInto('dashboard_sessions')
        .values([
          row('ended', now, now),
          row('ends-next', now, now + 1),
          row('idle', now - 30 * MINUTE, now + MINUTE),
          row('idle-next', now - 30 * MINUTE + 1, now + MINUTE),
        ])
        .execute();
      expect((await start(harness(http()).browser(), client)).started).toBe(true);
      const left = (await rows(client.id)).map((r) => r.csrf_token);
      expect(left).toHaveLength(3);
      expect(left).toEqual(expect.arrayContaining(['ends-next', 'idle-next']));
    });

    it('finds the session behind the cookie with its client’s name, id and current scope', async () => {
      const client = await newClient('read');
      const browser = harness(http()).browser();
      await start(browser, client);
      const [row] = await rows(client.id);
      expect(await current(browser)).toEqual({
        idHash: row?.id_hash,
        apiClientId: client.id,
        clientName: client.name,
        clientId: client.client_id,
        scope: 'read',
        csrfToken: row?.csrf_token,
      });
      await database.db.updateTable('api_clients').set({ scope: 'admin' }).where('id', '=', client.id).execute();
      expect(await current(browser)).toMatchObject({ scope: 'admin' });
      const stranger = harness(http()).browser();
      expect(await current(stranger)).toBeNull();
      stranger.cookies.set('sb_session', 'made-up');
      expect(await current(stranger)).toBeNull();
    });

    it('ends a session 30 idle minutes after its last recorded request, to the millisecond', async () => {
      const client = await newClient();
      const site = harness(http());
      const [idle, busy] = [site.browser(), site.browser()];
      await start(idle, client);
      await start(busy, client);
      const started = clock.now();
      clock.advance(30 * MINUTE - 1);
      expect(await current(busy)).not.toBeNull();
      clock.advance(1);
      expect(await current(idle)).toBeNull();
      expect(await rowOf(idle.cookies.get('sb_session'))).toBeUndefined();
      // The request a millisecond earlier reset the other's idle timer.
      expect((await rowOf(busy.cookies.get('sb_session')))?.last_seen_at).toBe(iso(started + 30 * MINUTE - 1));
      expect(await current(busy)).not.toBeNull();
    });

    it('records a request as activity at most once a minute', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      await start(browser, client);
      const started = clock.now();
      const lastSeen = async () => (await rowOf(browser.cookies.get('sb_session')))?.last_seen_at;
      clock.advance(MINUTE - 1);
      expect(await current(browser)).not.toBeNull();
      expect(await lastSeen()).toBe(iso(started));
      clock.advance(1);
      expect(await current(browser)).not.toBeNull();
      expect(await lastSeen()).toBe(iso(started + MINUTE));
      // A request within the minute after is not recorded: 30 minutes after the recorded one it is over.
      clock.advance(MINUTE - 1);
      expect(await current(browser)).not.toBeNull();
      expect(await lastSeen()).toBe(iso(started + MINUTE));
      clock.advance(29 * MINUTE + 1);
      expect(await current(browser)).toBeNull();
    });

    it('ends a session 12 hours after it started however active it stays, to the millisecond', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      await start(browser, client);
      const end = clock.now() + 12 * 60 * MINUTE;
      while (clock.now() + 25 * MINUTE < end) {
        clock.advance(25 * MINUTE);
        expect(await current(browser)).not.toBeNull();
      }
      clock.advance(end - 1 - clock.now());
      expect(await current(browser)).not.toBeNull();
      clock.advance(1);
      expect(await current(browser)).toBeNull();
      expect(await rows(client.id)).toEqual([]);
    });

    it('ends the sessions of a revoked client at their next request', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      await start(browser, client);
      expect(await current(browser)).not.toBeNull();
      // Revoked by hand, its sessions left in place: the request itself must refuse them.
      await database.db
        .updateTable('api_clients')
        .set({ revoked_at: iso(clock.now()) })
        .where('id', '=', client.id)
        .execute();
      expect(await current(browser)).toBeNull();
      expect(await rows(client.id)).toEqual([]);
    });

    it('signs out: the row and the cookie go, other sessions stay; without a session the cookie is cleared anyway', async () => {
      const client = await newClient();
      const site = harness(http());
      const [browser, other] = [site.browser(), site.browser()];
      await start(browser, client);
      await start(other, client);
      const token = browser.cookies.get('sb_session');
      const out = await browser.request('/dashboard/sign-out', { method: 'POST' });
      expect(out.status).toBe(204);
      expect(Browser.setCookie(out, 'sb_session')).toBe('sb_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
      expect(await rowOf(token)).toBeUndefined();
      expect(await current(other)).not.toBeNull();
      const replay = site.browser();
      replay.cookies.set('sb_session', token ?? '');
      expect(await current(replay)).toBeNull();
      const nobody = await site.browser().request('/dashboard/sign-out', { method: 'POST' });
      expect(nobody.status).toBe(204);
      expect(Browser.setCookie(nobody, 'sb_session')).toBe('sb_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
      const secure = await harness(https()).browser().request('/dashboard/sign-out', { method: 'POST' });
      expect(Browser.setCookie(secure, '__Host-sb_session')).toBe(
        '__Host-sb_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
      );
    });

    it('checks a form against its own session’s token', async () => {
      const client = await newClient();
      const site = harness(http());
      const [browser, other] = [site.browser(), site.browser()];
      await start(browser, client);
      await start(other, client);
      const mine = (await current(browser))?.csrfToken as string;
      const theirs = (await current(other))?.csrfToken as string;
      const guarded = async (form: Fields) =>
        (await (await browser.request('/dashboard/guarded', { form })).json()) as { valid: boolean };
      expect(await guarded({ _csrf: mine })).toEqual({ valid: true });
      expect(await guarded({ _csrf: theirs })).toEqual({ valid: false });
      expect(await guarded({})).toEqual({ valid: false });
    });
  });

  describe('the sign-in page', () => {
    it('serves the form with a token bound to an HttpOnly cookie of one hour, and keeps that token', async () => {
      const browser = harness(http()).browser();
      const { response, page, csrf } = await signInForm(browser, '/dashboard/logs?q=1');
      expect(response.status).toBe(200);
      expect(csrf).toMatch(TOKEN);
      expect(Browser.setCookie(response, 'sb_signin')).toBe(
        `sb_signin=${csrf}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`,
      );
      expect(hidden(page, 'next')).toBe('/dashboard/logs?q&#61;1');
      // A fresh form shows no message and has the focus in its empty client id field.
      expect(page).toMatch(/<\/p>\s*<form method="post" action="\/dashboard\/sign-in">/);
      expect(page).toContain('spellcheck="false" value="" autofocus>');
      expect(page).toContain('autocomplete="current-password">');
      const again = await signInForm(browser);
      expect(again.csrf).toBe(csrf);
      expect(again.response.headers.getSetCookie()).toEqual([]);
      expect(hidden(again.page, 'next')).toBe('/dashboard');
      const secure = await signInForm(harness(https()).browser());
      expect(Browser.setCookie(secure.response, '__Host-sb_signin')).toBe(
        `__Host-sb_signin=${secure.csrf}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`,
      );
    });

    it('replaces a sign-in cookie that is not a token of ours', async () => {
      const valid = 'v'.repeat(43);
      for (const planted of ['v'.repeat(42), 'v'.repeat(44), `${'v'.repeat(42)}.`, `.${'v'.repeat(42)}`, 'x']) {
        const browser = harness(http()).browser();
        browser.cookies.set('sb_signin', planted);
        const { csrf } = await signInForm(browser);
        expect(csrf, planted).toMatch(TOKEN);
        expect(browser.cookies.get('sb_signin')).toBe(csrf);
      }
      const browser = harness(http()).browser();
      browser.cookies.set('sb_signin', valid);
      expect((await signInForm(browser)).csrf).toBe(valid);
    });

    it('sends a browser that already has a session on to its next page', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      await start(browser, client);
      const response = await browser.request(`/dashboard/sign-in?next=${encodeURIComponent('/dashboard/logs?q=1')}`);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/dashboard/logs?q=1');
      const elsewhere = await browser.request('/dashboard/sign-in?next=https://evil.example/');
      expect(elsewhere.headers.get('location')).toBe('/dashboard');
    });
  });

  describe('signing in', () => {
    it('starts a session, clears the form’s cookie and goes on to the next page', async () => {
      const client = await newClient();
      const browser = harness(http()).browser();
      const { csrf } = await signInForm(browser);
      const { response } = await signIn(browser, {
        _csrf: csrf,
        next: '/dashboard/logs?q=1',
        client_id: ` ${client.client_id} `,
        client_secret: client.client_secret,
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/dashboard/logs?q=1');
      expect(Browser.setCookie(response, 'sb_signin')).toBe('sb_signin=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
      expect(browser.cookies.has('sb_signin')).toBe(false);
      expect(await current(browser)).toMatchObject({ apiClientId: client.id, clientName: client.name });
      // Without a next page: the dashboard.
      const other = harness(http()).browser();
      const second = await signIn(other, {
        _csrf: (await signInForm(other)).csrf,
        next: '//evil.example/',
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
      expect(second.response.headers.get('location')).toBe('/dashboard');
    });

    it('refuses a form without its cookie’s token, or from another site, as expired (403), before counting an attempt', async () => {
      const client = await newClient();
      const site = harness(http());
      const browser = site.browser();
      const { csrf } = await signInForm(browser);
      const credentials = { client_id: client.client_id, client_secret: client.client_secret, next: '/dashboard/logs' };
      const cookieless = site.browser();
      const attempts: [Browser, Fields, Record<string, string | undefined>][] = [
        [browser, credentials, {}],
        [browser, { ...credentials, _csrf: '' }, {}],
        [browser, { ...credentials, _csrf: `${csrf.slice(1)}A` }, {}],
        [browser, { ...credentials, _csrf: csrf }, { origin: 'https://evil.example' }],
        [browser, { ...credentials, _csrf: csrf }, { origin: undefined }],
        [browser, { ...credentials, _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }],
        [cookieless, { ...credentials, _csrf: csrf }, {}],
      ];
      for (const [who, fields, headers] of attempts) {
        const { response, page } = await signIn(who, fields, headers);
        expect(response.status, JSON.stringify(headers)).toBe(403);
        expect(page).toContain('The sign-in form expired. Please try again.');
        expect(hidden(page, 'next')).toBe('/dashboard/logs');
        expect(who.cookies.has('sb_session')).toBe(false);
      }
      expect(await rows(client.id)).toEqual([]);
      // None of the seven counted towards the limit of 3 a minute.
      const { response } = await signIn(browser, { ...credentials, _csrf: csrf });
      expect(response.status).toBe(303);
    });

    it('refuses wrong credentials and a revoked client with 401, the client id kept in the form', async () => {
      const client = await newClient();
      const revoked = await newClient();
      await database.db
        .updateTable('api_clients')
        .set({ revoked_at: iso(clock.now()) })
        .where('id', '=', revoked.id)
        .execute();
      for (const [clientId, secret] of [
        [client.client_id, 'sbs_wrong'],
        [client.client_id, ''],
        ['sbc_unknown', client.client_secret],
        [revoked.client_id, revoked.client_secret],
      ]) {
        const browser = harness(http()).browser();
        const { response, page } = await signIn(browser, {
          _csrf: (await signInForm(browser)).csrf,
          client_id: clientId ?? '',
          client_secret: secret ?? '',
        });
        expect(response.status, clientId).toBe(401);
        expect(page).toContain(
          '<div class="notice bad" role="alert">Those credentials are not valid, or the client was revoked.</div>',
        );
        // The id is kept and the secret field has the focus.
        expect(page).toContain(`spellcheck="false" value="${clientId}">`);
        expect(page).toContain('autocomplete="current-password" autofocus>');
        expect(browser.cookies.has('sb_session')).toBe(false);
      }
      expect(await rows(revoked.id)).toEqual([]);
    });

    it('refuses with 401 when the secret is rotated between its check and the session', async () => {
      const client = await newClient();
      const config = http();
      /** The rotation lands right after sign-in checked the secret. */
      class RotatedMidway extends DashboardSessions {
        override async start(c: Context, verified: { id: string; tokenVersion: number }): Promise<boolean> {
          await database.db
            .updateTable('api_clients')
            .set({ token_version: 1 })
            .where('id', '=', verified.id)
            .execute();
          return super.start(c, verified);
        }
      }
      const browser = harness(config, {
        sessions: new RotatedMidway({ db: database.db, engine, clock, config }),
      }).browser();
      const { response, page } = await signIn(browser, {
        _csrf: (await signInForm(browser)).csrf,
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
      expect(response.status).toBe(401);
      expect(page).toContain('Those credentials are not valid, or the client was revoked.');
      expect(browser.cookies.has('sb_session')).toBe(false);
      expect(browser.cookies.has('sb_signin')).toBe(true);
      expect(await rows(client.id)).toEqual([]);
    });

    it('counts attempts per address: the fourth in a minute waits (429, Retry-After), right secret or not', async () => {
      const client = await newClient();
      const site = harness(http());
      const attempt = async (address: string, secret: string) => {
        const browser = site.browser();
        return signIn(
          browser,
          { _csrf: (await signInForm(browser)).csrf, client_id: client.client_id, client_secret: secret },
          { 'x-forwarded-for': address },
        );
      };
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await attempt('203.0.113.9', 'wrong')).response.status);
      expect(statuses).toEqual([401, 401, 401]);
      clock.advance(20_000);
      const limited = await attempt('203.0.113.9', client.client_secret);
      expect(limited.response.status).toBe(429);
      expect(limited.response.headers.get('retry-after')).toBe('40');
      expect(limited.page).toContain('Too many sign-in attempts. Wait 40 seconds, then try again.');
      expect(limited.page).toContain(`value="${client.client_id}"`);
      // Another address is counted on its own; the first one's window ends a minute after it began.
      expect((await attempt('198.51.100.7', client.client_secret)).response.status).toBe(303);
      clock.advance(40_000 - 1);
      expect((await attempt('203.0.113.9', client.client_secret)).response.status).toBe(429);
      clock.advance(1);
      expect((await attempt('203.0.113.9', client.client_secret)).response.status).toBe(303);
    });

    it('lets a failure of the rate limiter other than a limit through as an error', async () => {
      for (const failure of [new Error('redis down'), new AppError('failed_precondition', 'counting failed')]) {
        const browser = harness(http(), {
          rateLimiter: {
            consume: async () => {
              throw failure;
            },
          },
        }).browser();
        const { response, page } = await signIn(browser, {
          _csrf: (await signInForm(browser)).csrf,
          client_id: 'sbc_any',
          client_secret: 'any',
        });
        expect(response.status, failure.message).toBe(isAppError(failure) ? failure.status : 500);
        expect(page).toBe(failure.message);
      }
    });

    it('reads at most 16 KiB of a sign-in form', async () => {
      const browser = harness(http()).browser();
      const { csrf } = await signInForm(browser);
      const tooLarge = await signIn(browser, { _csrf: csrf, pad: 'x'.repeat(16 * 1024) });
      expect(tooLarge.response.status).toBe(413);
      const fits = await signIn(browser, {
        _csrf: csrf,
        client_id: 'sbc_none',
        client_secret: 'none',
        pad: 'x'.repeat(15_000),
      });
      expect(fits.response.status).toBe(401);
    });
  });
});
