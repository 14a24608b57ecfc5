import { Hono } from 'hono';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { registerAccountPages } from './accounts.js';
import { registerClientPages } from './clients.js';
import { registerConnectionPages } from './connections.js';
import { isUnsafe, validCsrf } from './csrf.js';
import { html } from './html.js';
import { ASSETS, notice, page } from './layout.js';
import { registerLogPages } from './logs.js';
import { registerMcpConfigPages } from './mcp-configs.js';
import { registerGrantPages } from './mcp-grants.js';
import { type DashboardEnv, DashboardSessions } from './session.js';
import { registerSignIn } from './sign-in.js';
import { registerUserPages } from './users.js';

/**
 * No inline script or style, no framing, forms post only here. Inline <svg> (provider icons,
 * the chart) is markup, not a resource, so it needs no source.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'cache-control': 'no-store',
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on POST.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** Pages that answer without a session. */
const PUBLIC_PATHS = new Set(['/dashboard/sign-in']);

/** The admin web UI at /dashboard: server-rendered pages over the same services as the REST API. */
export function dashboard(services: Services): Hono<DashboardEnv> {
  const sessions = new DashboardSessions(services);
  const dashboard = new Hono<DashboardEnv>();

  dashboard.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(PAGE_HEADERS)) {
      if (!c.res.headers.has(name)) c.res.headers.set(name, value);
    }
  });

  for (const asset of Object.values(ASSETS)) {
    dashboard.get(asset.path.slice('/dashboard'.length), (c) =>
      c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' }),
    );
  }

  registerSignIn(dashboard, services, sessions);

  dashboard.use('*', async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (PUBLIC_PATHS.has(path) || path.startsWith('/dashboard/assets/')) return next();
    const session = await sessions.current(c);
    if (!session) {
      if (isUnsafe(c.req.method)) {
        return c.html(page({ title: 'Signed out', body: signedOutBody() }), 401);
      }
      const back = `${path}${new URL(c.req.url).search}`;
      return c.redirect(`/dashboard/sign-in?next=${encodeURIComponent(back)}`, 303);
    }
    if (isUnsafe(c.req.method) && !(await validCsrf(c, services.config, session.csrfToken))) {
      const wantsJson = (c.req.header('accept') ?? '').includes('application/json');
      if (wantsJson) return c.json({ error: 'csrf' }, 403);
      return c.html(
        page({
          title: 'Request refused',
          session,
          body: html`<h1>Request refused</h1>${notice('bad', 'This form was not sent from this dashboard, or it is too old. Go back, reload the page and try again.')}`,
        }),
        403,
      );
    }
    c.set('session', session);
    if (session.scope !== 'admin' && isUnsafe(c.req.method) && path !== '/dashboard/sign-out') {
      return c.html(
        page({
          title: 'Read-only',
          session,
          body: html`<h1>Read-only access</h1>${notice('bad', 'You signed in with a read-only API client: it may look, not change anything.')}`,
        }),
        403,
      );
    }
    return next();
  });

  dashboard.post('/sign-out', async (c) => {
    await sessions.end(c, c.get('session'));
    return c.redirect('/dashboard/sign-in', 303);
  });

  dashboard.get('/', (c) => c.redirect('/dashboard/connections', 303));

  registerConnectionPages(dashboard, services);
  registerMcpConfigPages(dashboard, services);
  registerUserPages(dashboard, services);
  registerAccountPages(dashboard, services);
  registerGrantPages(dashboard, services);
  registerLogPages(dashboard, services);
  registerClientPages(dashboard, services);

  dashboard.all('*', (c) =>
    c.html(
      page({
        title: 'Not found',
        session: c.get('session'),
        body: html`<h1>Not found</h1><p>There is no such page. <a href="/dashboard">Back to the dashboard</a>.</p>`,
      }),
      404,
    ),
  );

  dashboard.onError((error, c) => {
    const session = c.get('session');
    if (error instanceof AppError && error.status < 500) {
      return c.html(
        page({
          title: 'Error',
          session,
          body: html`<h1>That did not work</h1>${notice('bad', error.message)}<p><a href="/dashboard">Back to the dashboard</a></p>`,
        }),
        error.status as 400,
      );
    }
    services.logger.error({ requestId: c.get('requestId'), err: error }, 'dashboard error');
    return c.html(
      page({
        title: 'Error',
        session,
        body: html`<h1>Something went wrong</h1><p>The error was logged with request id <code>${c.get('requestId')}</code>.</p>`,
      }),
      500,
    );
  });

  return dashboard;
}

function signedOutBody() {
  return html`<h1>Your session has ended</h1><p>Sign in again, then repeat what you were doing.</p><p><a class="button primary" href="/dashboard/sign-in">Sign in</a></p>`;
}
