import { auth, gmail } from '@googleapis/gmail';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/support/clock.js';
import { type RunningSandbox, startSandbox } from '../../test/support/sandbox.js';
import { createSandbox } from './app.js';

const MAIL = 'https://mail.google.com/';
const JOHN = 'john.doe@example.com';

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ clock: manualClock() });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await post('/__sandbox/reset', {});
});

async function post(path: string, body: unknown, method = 'POST') {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function issue(email = JOHN, scopes: string[] = [MAIL]) {
  return (await post('/__sandbox/tokens', { email, scopes })).body as { access_token: string; refresh_token: string };
}

function listMessages(token: string) {
  return fetch(`${sandbox.url}/gmail/v1/users/me/messages?maxResults=2`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('the /__sandbox test controls', () => {
  it('issue a token directly for a user and scopes', async () => {
    const token = await issue();
    expect(token.access_token).toMatch(/^ya29\.sandbox-/);
    expect(token.refresh_token).toMatch(/^1\/\/sandbox-/);
    expect((await listMessages(token.access_token)).status).toBe(200);
    expect((await post('/__sandbox/tokens', { email: 'nobody@example.com', scopes: [MAIL] })).status).toBe(404);
  });

  it("expire a user's access tokens while their refresh tokens keep working", async () => {
    const token = await issue();
    expect((await post(`/__sandbox/users/${JOHN}/expire-tokens`, {})).body).toEqual({ expired: 1 });
    expect((await listMessages(token.access_token)).status).toBe(401);
    const refreshed = await fetch(`${sandbox.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token.refresh_token,
        client_id: 'sandbox-direct',
        client_secret: 'any',
      }),
    });
    expect(refreshed.status).toBe(200);
  });

  it("revoke a user's grants", async () => {
    const token = await issue();
    expect((await post(`/__sandbox/users/${JOHN}/revoke`, {})).body).toEqual({ revoked: 1 });
    expect((await listMessages(token.access_token)).status).toBe(401);
  });

  it('move the clock so tokens expire', async () => {
    const token = await issue();
    await post('/__sandbox/clock/advance', { seconds: 3600 });
    expect((await listMessages(token.access_token)).status).toBe(401);
  });

  it('count API calls per user and reset everything', async () => {
    const token = await issue();
    await listMessages(token.access_token);
    await listMessages(token.access_token);
    expect((await fetch(`${sandbox.url}/__sandbox/counters`).then((r) => r.json())).apiCallsByUser).toEqual({
      [JOHN]: 2,
    });
    await post('/__sandbox/reset', {});
    expect((await listMessages(token.access_token)).status).toBe(401);
  });
});

describe('fault injection', () => {
  it('answers the next N matching calls with 429 and Retry-After, then lets calls through', async () => {
    const token = await issue();
    const fault = await post('/__sandbox/faults', {
      match: { method: 'get', pathPrefix: '/gmail/v1/users/me/messages' },
      status: 429,
      retryAfterSeconds: 7,
      times: 2,
    });
    expect(fault.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const limited = await listMessages(token.access_token);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect((await limited.json()).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    }
    expect((await listMessages(token.access_token)).status).toBe(200);
  });

  it('only touches calls that match the method and path prefix', async () => {
    const token = await issue();
    await post('/__sandbox/faults', { match: { method: 'POST', pathPrefix: '/gmail/v1' }, status: 500 });
    expect((await listMessages(token.access_token)).status).toBe(200);
    await post('/__sandbox/faults', {
      match: { pathPrefix: '/token' },
      status: 503,
      body: { error: 'temporarily_unavailable' },
    });
    const tokenCall = await fetch(`${sandbox.url}/token`, { method: 'POST', body: new URLSearchParams({}) });
    expect(tokenCall.status).toBe(503);
    expect(await tokenCall.json()).toEqual({ error: 'temporarily_unavailable' });
  });

  it('slows responses down by delayMs', async () => {
    const token = await issue();
    await post('/__sandbox/faults', { match: { pathPrefix: '/gmail/' }, delayMs: 150 });
    const started = performance.now();
    expect((await listMessages(token.access_token)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('are cleared by DELETE /__sandbox/faults', async () => {
    const token = await issue();
    await post('/__sandbox/faults', { match: { pathPrefix: '/' }, status: 500, times: 100 });
    expect((await post('/__sandbox/faults', {}, 'DELETE')).status).toBe(200);
    expect((await listMessages(token.access_token)).status).toBe(200);
  });

  it("are retried through by Google's client library, which backs off on 503", async () => {
    const token = await issue();
    await post('/__sandbox/faults', { match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 503, times: 2 });
    const credentials = new auth.OAuth2();
    credentials.setCredentials({ access_token: token.access_token });
    const client = gmail({ version: 'v1', rootUrl: `${sandbox.url}/`, auth: credentials });
    expect((await client.users.getProfile({ userId: 'me' })).data.emailAddress).toBe(JOHN);
    expect((await fetch(`${sandbox.url}/__sandbox/faults`).then((r) => r.json())).faults).toEqual([]);
  });

  it('rejects a fault with neither status nor delay', async () => {
    expect((await post('/__sandbox/faults', { match: { pathPrefix: '/gmail' } })).status).toBe(400);
  });
});

describe('the sandbox mounted under a prefix', () => {
  const main = new Hono();
  const mounted = createSandbox({ clock: manualClock() });
  main.route('/sandbox', mounted.app);
  const BASE = 'http://switchboard.test/sandbox';

  it('builds its consent form action from the request URL', async () => {
    const query = new URLSearchParams({
      client_id: 'c',
      redirect_uri: 'http://localhost/cb',
      response_type: 'code',
      scope: MAIL,
    });
    const html = await (await main.request(`${BASE}/o/oauth2/v2/auth?${query}`)).text();
    expect(html).toContain(`action="${BASE}/o/oauth2/v2/auth/decision"`);
  });

  it('serves Gmail and matches faults by the path below the prefix', async () => {
    const { access_token } = mounted.state.oauth.issueTokenDirectly({ email: JOHN, scopes: [MAIL] });
    const headers = { authorization: `Bearer ${access_token}` };
    expect((await main.request(`${BASE}/gmail/v1/users/me/profile`, { headers })).status).toBe(200);
    mounted.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 500 });
    expect((await main.request(`${BASE}/gmail/v1/users/me/profile`, { headers })).status).toBe(500);
    expect((await main.request(`${BASE}/gmail/v1/users/me/profile`, { headers })).status).toBe(200);
  });
});
