import { Hono } from 'hono';
import type { CallbackOutcome } from '../accounts/connected-accounts.js';
import type { AppEnv, Services } from '../context.js';
import { statusPage } from './pages.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

const FAILURES: Record<
  Exclude<CallbackOutcome, { ok: true }>['reason'],
  { title: string; message: string; status: 400 | 410 | 502 }
> = {
  state_invalid: {
    title: 'This sign-in link is not valid',
    message: 'Switchboard does not know this authorization request. Open the authentication link you were sent again.',
    status: 400,
  },
  state_reused: {
    title: 'This sign-in was already used',
    message:
      'Each sign-in can complete only once. If your account is not connected yet, open the authentication link again.',
    status: 400,
  },
  state_expired: {
    title: 'This sign-in took too long',
    message: 'The authorization request expired. Open the authentication link again to start over.',
    status: 400,
  },
  consent_denied: {
    title: 'Access was not granted',
    message:
      'You declined the request, so nothing was connected. Open the authentication link again if you change your mind.',
    status: 400,
  },
  provider_error: {
    title: 'The provider could not complete the sign-in',
    message: 'Nothing was changed on your account. Please try the authentication link again in a moment.',
    status: 502,
  },
};

/** The pages people reach through authentication links: /connect/{token} and the OAuth callback. */
export function connectPages(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { accounts } = services;

  app.get('/connect/:token', async (c) => {
    const started = await accounts.startAuthorization(c.req.param('token'), c.req.query('login_hint') ?? undefined);
    if (started.ok) return c.redirect(started.url, 302);
    const expired = started.reason === 'link_expired';
    return c.html(
      statusPage({
        tone: 'error',
        title: expired ? 'This authentication link has expired' : 'This authentication link is not valid',
        message: expired
          ? 'Ask the app that sent it for a new link.'
          : 'Check that you copied the whole link, or ask the app that sent it for a new one.',
      }),
      expired ? 410 : 404,
      SECURITY_HEADERS,
    );
  });

  app.get('/oauth/callback', async (c) => {
    const outcome = await accounts.completeAuthorization(new URL(c.req.url).searchParams);
    if (outcome.ok) {
      const provider = services.catalog.providers.get(outcome.connection.provider);
      return c.html(
        statusPage({
          tone: 'success',
          title: `${provider?.displayName ?? outcome.connection.provider} is connected`,
          message: 'You can close this window and go back to your app.',
          detail: outcome.account.provider_account ? `Connected as ${outcome.account.provider_account}.` : undefined,
        }),
        200,
        SECURITY_HEADERS,
      );
    }
    const failure = FAILURES[outcome.reason];
    return c.html(
      statusPage({ tone: 'error', title: failure.title, message: failure.message }),
      failure.status,
      SECURITY_HEADERS,
    );
  });
  return app;
}
