import type { Context, Hono } from 'hono';
import { verifyApiClient } from '../auth/api-clients.js';
import type { Services } from '../context.js';
import { safeEqual } from '../crypto/random.js';
import { isAppError } from '../errors.js';
import { clientAddress } from '../http/client-address.js';
import { retryAfterSeconds } from '../rate-limits/rate-limiter.js';
import { CSRF_FIELD, sameOrigin } from './csrf.js';
import { field, readForm } from './form.js';
import { html } from './html.js';
import { command, notice, page } from './layout.js';
import {
  clearSignInToken,
  type DashboardEnv,
  type DashboardSessions,
  presentedSignInToken,
  signInToken,
} from './session.js';

/** Where to go after sign-in: only a dashboard path of this server, never another site. */
export function safeNext(value: string | undefined, publicUrl: string): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/dashboard';
  const base = new URL(publicUrl);
  const url = new URL(value, base);
  if (url.origin !== base.origin || !/^\/dashboard(\/|$)/.test(url.pathname)) return '/dashboard';
  return `${url.pathname}${url.search}`;
}

function signInPage(c: Context, services: Services, options: { next: string; error?: string; clientId?: string }) {
  const token = signInToken(c, services.config);
  return page({
    title: 'Sign in',
    body: html`<section class="signin panel" aria-labelledby="signin-title">
<h1 id="signin-title">Sign in to the dashboard</h1>
<p class="muted">Use management API credentials: a client id and secret the first start printed, or new ones from ${command('npx switchboard clients create --data-dir DIR')} (DIR: the server's data directory, <code>.data</code> by default, <code>.data/demo</code> for <code>npm start</code>).</p>
${options.error ? notice('bad', options.error) : ''}
<form method="post" action="/dashboard/sign-in">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<input type="hidden" name="next" value="${options.next}">
<div class="field"><label for="client_id">Client id</label>
<input type="text" id="client_id" name="client_id" required autocomplete="username" spellcheck="false" value="${options.clientId ?? ''}"${options.clientId ? '' : html` autofocus`}></div>
<div class="field"><label for="client_secret">Client secret</label>
<input type="password" id="client_secret" name="client_secret" required autocomplete="current-password"${options.clientId ? html` autofocus` : ''}></div>
<button type="submit" class="primary">Sign in</button>
</form></section>`,
  });
}

export function registerSignIn(dashboard: Hono<DashboardEnv>, services: Services, sessions: DashboardSessions): void {
  const { config, db } = services;

  dashboard.get('/sign-in', async (c) => {
    const next = safeNext(c.req.query('next'), config.publicUrl);
    if (await sessions.current(c)) return c.redirect(next, 303);
    return c.html(signInPage(c, services, { next }));
  });

  dashboard.post('/sign-in', async (c) => {
    const form = await readForm(c, 16 * 1024);
    const next = safeNext(field(form, 'next'), config.publicUrl);
    const expected = presentedSignInToken(c, config);
    const presented = field(form, CSRF_FIELD);
    if (!sameOrigin(c, config) || !expected || !presented || !safeEqual(expected, presented)) {
      return c.html(signInPage(c, services, { next, error: 'The sign-in form expired. Please try again.' }), 403);
    }
    const clientId = field(form, 'client_id');
    // Counted per address before the secret is checked. Not per client id: ids are no secrets,
    // so a stranger's wrong attempts would lock the real admin out from everywhere, and a
    // 256-bit secret needs no guessing limit of its own.
    try {
      await services.rateLimiter.consume('signIn', [`ip:${clientAddress(c, config)}`]);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'rate_limited') throw error;
      const retryAfter = retryAfterSeconds(error) ?? '1';
      c.header('retry-after', retryAfter);
      return c.html(
        signInPage(c, services, {
          next,
          clientId,
          error: `Too many sign-in attempts. Wait ${retryAfter} seconds, then try again.`,
        }),
        429,
      );
    }
    const client = await verifyApiClient(db, clientId, field(form, 'client_secret'));
    // start refuses too when a rotation or revocation committed after this check.
    if (!client || !(await sessions.start(c, client))) {
      return c.html(
        signInPage(c, services, {
          next,
          clientId,
          error: 'Those credentials are not valid, or the client was revoked.',
        }),
        401,
      );
    }
    clearSignInToken(c, config);
    return c.redirect(next, 303);
  });
}
