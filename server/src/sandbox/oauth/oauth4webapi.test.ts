import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSandbox, startSandbox } from '../../../test/support/sandbox.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
const GMAIL_READONLY = 'https://www.googleapis.com/auth/gmail.readonly';

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ rotateRefreshTokens: true });
});
afterAll(async () => {
  await sandbox.close();
});

describe('a spec-tight OAuth client (oauth4webapi) against the sandbox over HTTP', () => {
  it('completes the code flow with PKCE, refreshes, reads userinfo and revokes', async () => {
    const as: oauth.AuthorizationServer = {
      issuer: sandbox.url,
      authorization_endpoint: `${sandbox.url}/o/oauth2/v2/auth`,
      token_endpoint: `${sandbox.url}/token`,
      revocation_endpoint: `${sandbox.url}/revoke`,
      userinfo_endpoint: `${sandbox.url}/v1/userinfo`,
    };
    const client: oauth.Client = { client_id: 'o4w-client' };
    const clientAuth = oauth.ClientSecretPost('o4w-secret');
    const insecure = { [oauth.allowInsecureRequests]: true };

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint ?? '');
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: `openid email profile ${GMAIL_READONLY}`,
      state,
      access_type: 'offline',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      login_hint: 'mei.tanaka@example.com',
      sandbox_auto_consent: 'allow',
    }).toString();
    const authorize = await fetch(url, { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    const callback = new URL(authorize.headers.get('location') ?? '');

    const params = oauth.validateAuthResponse(as, client, callback, state);
    const codeResponse = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      REDIRECT,
      verifier,
      insecure,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeResponse);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeDefined();

    const userinfo = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    const info = await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, userinfo);
    expect(info).toMatchObject({ email: 'mei.tanaka@example.com', name: 'Mei Tanaka' });

    const refreshResponse = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth,
      tokens.refresh_token ?? '',
      insecure,
    );
    const refreshed = await oauth.processRefreshTokenResponse(as, client, refreshResponse);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const revoke = await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token ?? '', insecure);
    await oauth.processRevocationResponse(revoke);
    const after = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`, {
      headers: { authorization: `Bearer ${refreshed.access_token}` },
    });
    expect(after.status).toBe(401);
  });
});
