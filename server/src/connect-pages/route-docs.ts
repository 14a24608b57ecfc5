import type { RouteDoc } from '../http/route-docs.js';
import { callbackQuery, connectQuery } from './queries.js';

const TAG = 'Connect pages';
const HTML = 'text/html';

/** The pages people open through an authentication link, and Google's way back; they answer HTML. */
export const connectPageDocs: RouteDoc[] = [
  {
    method: 'get',
    route: '/connect/:token',
    tag: TAG,
    auth: 'none',
    summary: 'Open an authentication link: the consent start page, then on to the provider',
    params: { token: 'the link token from POST /api/v1/connected_accounts/magic_link' },
    query: connectQuery,
    response: { status: 302, description: 'on to the provider’s consent screen' },
    errors: [
      'auth_link_invalid',
      'auth_link_expired',
      'auth_link_used',
      'auth_link_revoked',
      'rate_limited',
      'validation_failed',
    ],
  },
  {
    method: 'get',
    route: '/oauth/callback',
    tag: TAG,
    auth: 'none',
    summary: 'The provider’s redirect back (the redirect URI to register at Google)',
    query: callbackQuery,
    response: {
      status: 200,
      also: [302],
      description: 'an HTML page saying the account is connected, or (302) on to the app’s user verification URL',
      contentType: HTML,
    },
    errors: ['auth_state_invalid', 'auth_state_reused', 'auth_state_expired', 'consent_denied', 'identity_mismatch'],
  },
  {
    method: 'get',
    route: '/connect/verified',
    tag: TAG,
    auth: 'none',
    summary: 'Where a verified connection ends: “you can close this window”',
    response: { status: 200, description: 'an HTML page', contentType: HTML },
  },
];
