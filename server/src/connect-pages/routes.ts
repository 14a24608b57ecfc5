import { Hono } from 'hono';
import type { AppEnv, Services } from '../context.js';
import { AppError, type ErrorCode } from '../errors.js';
import { statusPage } from './pages.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

/** What a person sees for each connect-flow failure; the status is the code's, from errors.ts. */
const FAILURES: Partial<Record<ErrorCode, { title: string; message: string }>> = {
  auth_link_invalid: {
    title: 'This authentication link is not valid',
    message: 'Check that you copied the whole link, or ask the app that sent it for a new one.',
  },
  auth_link_expired: {
    title: 'This authentication link has expired',
    message: 'Ask the app that sent it for a new link.',
  },
  auth_state_invalid: {
    title: 'This sign-in link is not valid',
    message: 'Switchboard does not know this authorization request. Open the authentication link you were sent again.',
  },
  auth_state_reused: {
    title: 'This sign-in was already used',
    message:
      'Each sign-in can complete only once. If your account is not connected yet, open the authentication link again.',
  },
  auth_state_expired: {
    title: 'This sign-in took too long',
    message: 'The authorization request expired. Open the authentication link again to start over.',
  },
  consent_denied: {
    title: 'Access was not granted',
    message:
      'You declined the request, so nothing was connected. Open the authentication link again if you change your mind.',
  },
  provider_error: {
    title: 'The provider could not complete the sign-in',
    message: 'Nothing was changed on your account. Please try the authentication link again in a moment.',
  },
};

/** The page for a connect-flow failure; any other error goes on to the app's error handler. */
function failurePage(error: unknown): Response {
  const failure = error instanceof AppError ? FAILURES[error.code] : undefined;
  if (!failure || !(error instanceof AppError)) throw error;
  return new Response(statusPage({ tone: 'error', title: failure.title, message: failure.message }), {
    status: error.status,
    headers: { 'content-type': 'text/html; charset=UTF-8', ...SECURITY_HEADERS },
  });
}

/** The pages people reach through authentication links: /connect/{token} and the OAuth callback. */
export function connectPages(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { connectFlow } = services;

  app.get('/connect/:token', async (c) => {
    try {
      const { url } = await connectFlow.startAuthorization(
        c.req.param('token'),
        c.req.query('login_hint') ?? undefined,
      );
      return c.redirect(url, 302);
    } catch (error) {
      return failurePage(error);
    }
  });

  app.get('/oauth/callback', async (c) => {
    let connected: Awaited<ReturnType<typeof connectFlow.completeAuthorization>>;
    try {
      connected = await connectFlow.completeAuthorization(new URL(c.req.url).searchParams);
    } catch (error) {
      return failurePage(error);
    }
    const { account, connection } = connected;
    const provider = services.catalog.providers.get(connection.provider);
    return c.html(
      statusPage({
        tone: 'success',
        title: `${provider?.displayName ?? connection.provider} is connected`,
        message: 'You can close this window and go back to your app.',
        detail: account.provider_account ? `Connected as ${account.provider_account}.` : undefined,
      }),
      200,
      SECURITY_HEADERS,
    );
  });
  return app;
}
