import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/support/clock.js';
import { createSandbox, type Sandbox } from '../app.js';
import type { SandboxOptions } from '../state.js';
import { BUILT_IN_CLIENT } from './authorization-server.js';

const BASE = 'http://sandbox.test';
const CLIENT = { id: 'client-123.apps.googleusercontent.com', secret: 'shh-123' };
const REDIRECT = 'https://app.example/oauth/callback';
const GMAIL_READONLY = 'https://www.googleapis.com/auth/gmail.readonly';
const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';

let clock: ReturnType<typeof manualClock>;
let sandbox: Sandbox;

function start(options: SandboxOptions = {}) {
  clock = manualClock();
  sandbox = createSandbox({ clock, ...options });
}

function request(path: string, init?: RequestInit) {
  return sandbox.app.request(`${BASE}${path}`, init);
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string>) {
  const query = new URLSearchParams({
    client_id: CLIENT.id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: `openid email ${GMAIL_READONLY}`,
    state: 'st-1',
    access_type: 'offline',
    ...params,
  });
  return `/o/oauth2/v2/auth?${query}`;
}

/** Opens the consent page, picks a user and answers it like a person would. */
async function consent(
  params: Record<string, string>,
  answer: { decision: 'allow' | 'deny'; user?: string; scopes?: string[] },
): Promise<URL> {
  const page = await request(authorizeUrl(params));
  expect(page.status).toBe(200);
  const html = await page.text();
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  const form = new URLSearchParams({
    request: requestId,
    decision: answer.decision,
    user: answer.user ?? 'john.doe@example.com',
  });
  const ticked = answer.scopes ?? [...html.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1] ?? '');
  for (const scope of ticked) form.append('scope', scope);
  const response = await sandbox.app.request(action, {
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return request('/token', {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

async function codeFor(params: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const redirect = await consent(
    { code_challenge: challenge, code_challenge_method: 'S256', ...params },
    { decision: 'allow' },
  );
  return { code: redirect.searchParams.get('code') ?? '', verifier };
}

async function exchange(code: string, verifier: string) {
  return token({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
  });
}

async function tokensFor(options: Record<string, string> = {}) {
  const { code, verifier } = await codeFor(options);
  const response = await exchange(code, verifier);
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; refresh_token?: string; scope: string; expires_in: number };
}

function refresh(refreshToken: string) {
  return token({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
  });
}

function gmailProfile(accessToken: string) {
  return request('/gmail/v1/users/me/profile', { headers: { authorization: `Bearer ${accessToken}` } });
}

describe('the sandbox OAuth server', () => {
  beforeEach(() => start());
  afterEach(() => sandbox.state.reset());

  it('shows a consent page listing the seeded users and the requested scopes in plain words', async () => {
    const response = await request(authorizeUrl({ login_hint: 'jane.doe@example.com' }));
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('John Doe');
    expect(html).toContain('jane.doe@example.com');
    expect(html).toMatch(/value="jane.doe@example.com" checked/);
    expect(html).toContain('View your email messages and settings');
    expect(html).toContain(`action="${BASE}/o/oauth2/v2/auth/decision"`);
  });

  it('redirects with a code, the state and the granted scopes when the user allows, and the code buys tokens', async () => {
    const { verifier, challenge } = pkce();
    const redirect = await consent({ code_challenge: challenge, code_challenge_method: 'S256' }, { decision: 'allow' });
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('st-1');
    expect(redirect.searchParams.get('scope')?.split(' ')).toEqual([
      'openid',
      'https://www.googleapis.com/auth/userinfo.email',
      GMAIL_READONLY,
    ]);
    const response = await exchange(redirect.searchParams.get('code') ?? '', verifier);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(body).toMatchObject({ expires_in: 3599, token_type: 'Bearer' });
    expect(body.access_token).toMatch(/^ya29\.sandbox-/);
    expect(body.refresh_token).toMatch(/^1\/\/sandbox-/);
    expect(body.scope).toContain(GMAIL_READONLY);
    expect((await gmailProfile(body.access_token)).status).toBe(200);
  });

  it('gives no refresh token to an online request', async () => {
    const body = await tokensFor({ access_type: 'online' });
    expect(body.refresh_token).toBeUndefined();
  });

  it('grants only the scopes the user left ticked', async () => {
    const redirect = await consent({}, { decision: 'allow', scopes: ['openid', GMAIL_READONLY] });
    expect(redirect.searchParams.get('scope')).toBe(`openid ${GMAIL_READONLY}`);
  });

  it('redirects with access_denied and the state when the user denies', async () => {
    const redirect = await consent({}, { decision: 'deny' });
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('st-1');
    expect(redirect.searchParams.get('code')).toBeNull();
  });

  it('shows an error page instead of redirecting when the client_id is missing or the redirect_uri is bad', async () => {
    const missingClient = await request(authorizeUrl({ client_id: '' }));
    expect(missingClient.status).toBe(401);
    expect(await missingClient.text()).toContain('invalid_client');
    const badRedirect = await request(authorizeUrl({ redirect_uri: 'not a url' }));
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get('location')).toBeNull();
  });

  it('enforces the redirect URIs of a registered client', async () => {
    start({ clients: [{ clientId: CLIENT.id, clientSecret: CLIENT.secret, redirectUris: [REDIRECT] }] });
    const response = await request(authorizeUrl({ redirect_uri: 'https://evil.example/cb' }));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('redirect_uri_mismatch');
  });

  it('consents without a page when sandbox_auto_consent is allow or deny', async () => {
    const allowed = await request(authorizeUrl({ login_hint: 'jane.doe@example.com', sandbox_auto_consent: 'allow' }));
    expect(allowed.status).toBe(302);
    const code = new URL(allowed.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await (
      await token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
      })
    ).json();
    const userinfo = await request('/v1/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await userinfo.json()).toMatchObject({ email: 'jane.doe@example.com', email_verified: true });

    const denied = await request(authorizeUrl({ login_hint: 'jane.doe@example.com', sandbox_auto_consent: 'deny' }));
    expect(new URL(denied.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  it('answers prompt=none silently for a user who already consented, and consent_required otherwise', async () => {
    await tokensFor();
    const silent = await request(authorizeUrl({ prompt: 'none', login_hint: 'john.doe@example.com' }));
    expect(new URL(silent.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
    const stranger = await request(authorizeUrl({ prompt: 'none', login_hint: 'jane.doe@example.com' }));
    expect(new URL(stranger.headers.get('location') ?? '').searchParams.get('error')).toBe('consent_required');
  });

  it('adds the scopes granted before when include_granted_scopes=true', async () => {
    await tokensFor();
    const redirect = await consent({ scope: GMAIL_SEND, include_granted_scopes: 'true' }, { decision: 'allow' });
    expect(redirect.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([GMAIL_READONLY, GMAIL_SEND]),
    );
  });

  it("answers a call without a token with Google's 'Login Required' 401", async () => {
    const response = await request('/gmail/v1/users/me/profile');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="https://accounts.google.com/"');
    expect((await response.json()).error.errors[0]).toMatchObject({ message: 'Login Required.', reason: 'required' });
  });

  it('rejects a reused code with invalid_grant and revokes the tokens it bought', async () => {
    const { code, verifier } = await codeFor();
    const first = await (await exchange(code, verifier)).json();
    const second = await exchange(code, verifier);
    expect(second.status).toBe(400);
    expect(await second.json()).toEqual({ error: 'invalid_grant', error_description: 'Bad Request' });
    expect((await gmailProfile(first.access_token)).status).toBe(401);
  });

  it('rejects a code whose PKCE verifier does not match', async () => {
    const { code } = await codeFor();
    const response = await exchange(code, pkce().verifier);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid code verifier.' });
  });

  it('accepts the plain PKCE method', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const redirect = await consent({ code_challenge: verifier, code_challenge_method: 'plain' }, { decision: 'allow' });
    expect((await exchange(redirect.searchParams.get('code') ?? '', verifier)).status).toBe(200);
  });

  it('rejects an expired code', async () => {
    const { code, verifier } = await codeFor();
    clock.advance(11 * 60_000);
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('accepts client_secret_basic and answers invalid_client to a different secret for the same client', async () => {
    const { code, verifier } = await codeFor();
    const basic = Buffer.from(`${encodeURIComponent(CLIENT.id)}:${encodeURIComponent(CLIENT.secret)}`).toString(
      'base64',
    );
    const ok = await token(
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      { authorization: `Basic ${basic}` },
    );
    expect(ok.status).toBe(200);
    const wrong = await token({
      grant_type: 'refresh_token',
      refresh_token: (await ok.json()).refresh_token,
      client_id: CLIENT.id,
      client_secret: 'guessed',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
  });

  it("refuses to pin another secret for Switchboard's built-in client, and accepts the one the server uses", async () => {
    const pinning = await token({
      grant_type: 'authorization_code',
      code: 'whatever',
      client_id: BUILT_IN_CLIENT.clientId,
      client_secret: 'pinned-by-a-stranger',
    });
    expect(pinning.status).toBe(401);
    expect((await pinning.json()).error).toBe('invalid_client');
    const { code, verifier } = await codeFor({ client_id: BUILT_IN_CLIENT.clientId });
    const exchanged = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: BUILT_IN_CLIENT.clientId,
      client_secret: BUILT_IN_CLIENT.clientSecret,
    });
    expect(exchanged.status).toBe(200);
  });

  it('answers unsupported_grant_type to a grant it does not know', async () => {
    const response = await token({ grant_type: 'password', client_id: CLIENT.id, client_secret: CLIENT.secret });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('unsupported_grant_type');
  });

  it('refreshes an expired access token and keeps the same refresh token by default', async () => {
    const tokens = await tokensFor();
    clock.advance(3600_000);
    const expired = await gmailProfile(tokens.access_token);
    expect(expired.status).toBe(401);
    const refreshed = await refresh(tokens.refresh_token ?? '');
    expect(refreshed.status).toBe(200);
    const body = await refreshed.json();
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope).toBe(tokens.scope);
    expect((await gmailProfile(body.access_token)).status).toBe(200);
    expect((await refresh(tokens.refresh_token ?? '')).status).toBe(200);
  });

  it('rotates refresh tokens when asked and accepts the previous one until the new one has been used', async () => {
    start({ rotateRefreshTokens: true });
    const first = (await tokensFor()).refresh_token ?? '';
    const second = (await (await refresh(first)).json()).refresh_token;
    expect(second).toMatch(/^1\/\/sandbox-/);
    expect(second).not.toBe(first);
    // The answer carrying `second` was lost: the old token still works and replaces it.
    const replacement = (await (await refresh(first)).json()).refresh_token;
    expect((await refresh(second)).status).toBe(400);
    const third = (await (await refresh(replacement)).json()).refresh_token;
    expect(third).toBeDefined();
    // `replacement` has been used, so `first` is finished.
    const reused = await refresh(first);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
  });

  it('revokes the whole grant from its access token, and says invalid_token for an unknown token', async () => {
    const tokens = await tokensFor();
    const revoked = await request(`/revoke?token=${encodeURIComponent(tokens.access_token)}`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({});
    expect((await gmailProfile(tokens.access_token)).status).toBe(401);
    expect((await refresh(tokens.refresh_token ?? '')).status).toBe(400);
    const again = await request('/revoke', {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.access_token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'invalid_token', error_description: 'Token expired or revoked' });
  });

  it("answers an expired token on an API with Google's 401 body and WWW-Authenticate header", async () => {
    const tokens = await tokensFor();
    clock.advance(3599_000);
    const response = await gmailProfile(tokens.access_token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="https://accounts.google.com/", error="invalid_token"',
    );
    expect(await response.json()).toEqual({
      error: {
        code: 401,
        message:
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        errors: [
          {
            message: 'Invalid Credentials',
            domain: 'global',
            reason: 'authError',
            location: 'Authorization',
            locationType: 'header',
          },
        ],
        status: 'UNAUTHENTICATED',
      },
    });
  });

  it('answers a token without a Gmail read scope with 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT', async () => {
    const { access_token } = sandbox.state.oauth.issueTokenDirectly({
      email: 'john.doe@example.com',
      scopes: [GMAIL_SEND],
    });
    const response = await request('/gmail/v1/users/me/messages', {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(response.status).toBe(403);
    const body = await response.json();
    expect(body.error).toMatchObject({
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
      status: 'PERMISSION_DENIED',
    });
    expect(body.error.details[0]).toEqual({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
      domain: 'googleapis.com',
      metadata: { service: 'gmail.googleapis.com', method: 'caribou.api.proto.MailboxService.ListMessages' },
    });
  });

  it('serves userinfo and tokeninfo with the fields the scopes allow', async () => {
    const tokens = await tokensFor();
    const auth = { authorization: `Bearer ${tokens.access_token}` };
    const info = await (await request('/oauth2/v3/userinfo', { headers: auth })).json();
    expect(info).toMatchObject({ sub: '104217389532716405821', email: 'john.doe@example.com', email_verified: true });
    expect(info.name).toBeUndefined();
    const tokeninfo = await (await request(`/oauth2/v3/tokeninfo?access_token=${tokens.access_token}`)).json();
    expect(tokeninfo).toMatchObject({ aud: CLIENT.id, email: 'john.doe@example.com', expires_in: '3599' });
    expect((await request('/v1/userinfo')).status).toBe(401);
  });

  it('counts token-endpoint calls per grant type and per user', async () => {
    const tokens = await tokensFor();
    await refresh(tokens.refresh_token ?? '');
    await refresh(tokens.refresh_token ?? '');
    const counters = sandbox.state.readCounters();
    expect(counters.tokenCalls).toEqual({ authorization_code: 1, refresh_token: 2 });
    expect(counters.tokenCallsByUser['john.doe@example.com']).toEqual({ authorization_code: 1, refresh_token: 2 });
  });
});
