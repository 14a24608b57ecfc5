import type { ProviderOAuth } from '../types.js';

/**
 * Google's OAuth 2.0, shared by every Google provider.
 * https://developers.google.com/identity/protocols/oauth2/web-server
 * Scopes, PKCE, token responses and revocation follow the RFCs, so the engine's defaults apply;
 * the userinfo endpoint is OpenID Connect's, whose `email` the default identity reader takes.
 */
export const googleOAuth: ProviderOAuth = {
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: 'https://oauth2.googleapis.com/token',
  revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
  userinfoEndpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
  // Google only issues a refresh token with access_type=offline, and only on the first
  // consent unless prompt=consent forces the consent screen again.
  // include_granted_scopes: incremental authorization. A consent that asks for more scopes
  // (a config's tools need them) returns a grant with the earlier ones too, not instead of them.
  // https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth
  authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
  // Lets the callback read which Google account was connected.
  identityScopes: ['https://www.googleapis.com/auth/userinfo.email'],
};
