import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv, Services } from '../context.js';
import { AppError, type ErrorCode } from '../errors.js';
import { clientAddress } from '../http/client-address.js';
import { readQuery } from '../http/request.js';
import { retryAfterSeconds } from '../rate-limits/rate-limiter.js';
import { statusPage } from './pages.js';
import { callbackQuery, connectQuery } from './queries.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

/**
 * What a person sees for each connect-flow failure; the status is the code's, from errors.ts.
 * A callback spends its link before the code exchange, whatever the outcome: after a
 * callback's failure only a new link from the app helps, so those pages never send the
 * person back to the link they used.
 */
const FAILURES: Partial<Record<ErrorCode, { title: string; message: string }>> = {
  auth_link_invalid: {
    title: 'This authentication link is not valid',
    message: 'Check that you copied the whole link, or ask the app that sent it for a new one.',
  },
  auth_link_expired: {
    title: 'This authentication link has expired',
    message: 'Ask the app that sent it for a new link.',
  },
  auth_link_used: {
    title: 'This authentication link was already used',
    message: 'Each link connects an account once. Ask the app that sent it for a new link.',
  },
  auth_link_revoked: {
    title: 'This authentication link is no longer valid',
    message:
      'A newer link was sent, the account was connected through another link, or it was disconnected. Use the newest link from your app.',
  },
  identity_mismatch: {
    title: 'A different account is already connected',
    message:
      'This connection is bound to another account at the provider, so nothing was changed. This link cannot be used again: ask the app for a new link and sign in with that account, or ask the app to disconnect it first.',
  },
  auth_state_invalid: {
    title: 'This sign-in link is not valid',
    message: 'Switchboard does not know this authorization request. Open the authentication link you were sent again.',
  },
  auth_state_reused: {
    title: 'This sign-in was already used',
    message:
      'Each sign-in can complete only once, and its link went with it. If your account is not connected yet, ask the app that sent the link for a new one.',
  },
  auth_state_expired: {
    title: 'This sign-in took too long',
    message: 'The authorization request expired. Open the authentication link again to start over.',
  },
  consent_denied: {
    title: 'Access was not granted',
    message:
      'You declined the request, so nothing was connected. This link cannot be used again: if you change your mind, ask the app that sent it for a new link.',
  },
  rate_limited: {
    title: 'Too many attempts',
    message: 'This browser opened too many sign-in pages in a short time. Wait a minute, then open the link again.',
  },
  validation_failed: {
    title: 'This address is not valid',
    message: 'Part of it is malformed. Open the authentication link you were sent again, exactly as it was sent.',
  },
  provider_error: {
    title: 'The provider could not complete the sign-in',
    message:
      'Nothing was changed on your account. This link cannot be used again: wait a moment, then ask the app that sent it for a new link.',
  },
};

/** The page for a connect-flow failure; any other error goes on to the app's error handler. */
function failurePage(error: unknown): Response {
  const failure = error instanceof AppError ? FAILURES[error.code] : undefined;
  if (!failure || !(error instanceof AppError)) throw error;
  const retryAfter = retryAfterSeconds(error);
  return new Response(statusPage({ tone: 'error', title: failure.title, message: failure.message }), {
    status: error.status,
    headers: {
      'content-type': 'text/html; charset=UTF-8',
      ...SECURITY_HEADERS,
      ...(retryAfter ? { 'retry-after': retryAfter } : {}),
    },
  });
}

/** The pages people reach through authentication links: /connect/{token} and the OAuth callback. */
export function connectPages(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { connectFlow, config, rateLimiter } = services;

  // Links and callbacks are unguessable, but each try costs a database lookup: per address.
  const perAddress: MiddlewareHandler<AppEnv> = async (c, next) => {
    try {
      await rateLimiter.consume('connect', [`ip:${clientAddress(c, config)}`]);
    } catch (error) {
      return failurePage(error);
    }
    await next();
  };
  app.use('/connect/*', perAddress);
  app.use('/oauth/callback', perAddress);

  // Where the app sends the browser after a successful user verification (post_user_verify_redirect_url).
  app.get('/connect/verified', (c) =>
    c.html(
      statusPage({
        tone: 'success',
        title: 'Your account is connected',
        message: 'You can close this window and go back to your app.',
      }),
      200,
      SECURITY_HEADERS,
    ),
  );
  app.get('/connect/:token', async (c) => {
    try {
      const { login_hint: loginHint } = readQuery(c, connectQuery);
      const { url } = await connectFlow.startAuthorization(c.req.param('token'), loginHint);
      return c.redirect(url, 302);
    } catch (error) {
      return failurePage(error);
    }
  });

  app.get('/oauth/callback', async (c) => {
    let connected: Awaited<ReturnType<typeof connectFlow.completeAuthorization>>;
    try {
      // The fields are checked here; the OAuth client reads the whole answer (code, iss, …).
      readQuery(c, callbackQuery);
      connected = await connectFlow.completeAuthorization(new URL(c.req.url).searchParams);
    } catch (error) {
      return failurePage(error);
    }
    const { account, connection, verification } = connected;
    // The app confirms who consented; the browser carries the single-use auth_request_id there.
    if (verification) return c.redirect(verification.url, 302);
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
