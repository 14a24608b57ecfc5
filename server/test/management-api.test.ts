import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from './support/clock.js';
import { type Stack, startStack } from './support/stack.js';

function apiRoutes(stack: Stack): { method: string; path: string }[] {
  const seen = new Set<string>();
  return stack.app.routes
    .filter((route) => route.path.startsWith('/api/v1/') && route.method !== 'ALL')
    .map((route) => ({ method: route.method, path: route.path.replace(/:([a-z_]+)/gi, 'x_1') }))
    .filter((route) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

describe('management API authentication', () => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ clock });
  });
  afterAll(() => stack?.close());

  it('issues a short-lived signed token for valid client credentials', async () => {
    const response = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: stack.admin.client_id,
        client_secret: stack.admin.client_secret,
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.access_token.split('.')).toHaveLength(3);
  });

  it('refuses wrong client credentials and other grant types with OAuth error bodies', async () => {
    const wrong = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: stack.admin.client_id,
        client_secret: 'nope',
      }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const grant = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: stack.admin.client_id, client_secret: 'x' }),
    });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('rejects every /api/v1 route without a token, with a bad token, and with an expired token', async () => {
    const routes = apiRoutes(stack);
    expect(routes.length).toBeGreaterThan(10);
    const valid = await stack.token();
    const [header, payload] = valid.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not-a-signature').toString('base64url')}`;
    clock.advance(2 * 3600_000);
    const expired = valid;
    for (const route of routes) {
      for (const authorization of [undefined, 'Bearer garbage', `Bearer ${forged}`, `Bearer ${expired}`, 'Basic abc']) {
        const response = await stack.fetch(`${stack.url}${route.path}`, {
          method: route.method,
          headers: authorization ? { authorization } : {},
        });
        expect(response.status, `${route.method} ${route.path} with ${authorization}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('unauthenticated');
      }
    }
  });

  it('keeps one access token working across many calls until 5 s past its expiry, then answers 401', async () => {
    const issued = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: stack.admin.client_id,
        client_secret: stack.admin.client_secret,
      }),
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    const call = async (path: string) =>
      (await stack.fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;

    for (let i = 0; i < 30; i++) expect(await call('/api/v1/connections')).toBe(200);
    const burst = await Promise.all(Array.from({ length: 20 }, () => call('/api/v1/mcp/configs')));
    expect(burst).toEqual(Array(20).fill(200));

    clock.advance((claims.exp + 4) * 1000 - clock.now());
    expect(await call('/api/v1/connections')).toBe(200);
    clock.advance(1000);
    expect(await call('/api/v1/connections')).toBe(401);
    expect(await call('/api/v1/mcp/configs')).toBe(401);
    // The server still answers a token it has not seen expire.
    expect((await stack.api('GET', '/api/v1/connections')).status).toBe(200);
  });
});

describe('management API input validation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  async function post(path: string, body: string, contentType = 'application/json') {
    const response = await stack.fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token()}`, 'content-type': contentType },
      body,
    });
    return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
  }

  it('answers malformed JSON with 400 invalid_json', async () => {
    const result = await post('/api/v1/connections', '{"name": "A",');
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('invalid_json');
  });

  it('answers unknown fields with 400 naming the field', async () => {
    const result = await post('/api/v1/connections', JSON.stringify({ name: 'A', provider: 'gmail', colour: 'red' }));
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('validation_failed');
    expect(result.body.error.message).toContain('colour');
  });

  it('answers wrong types with 400 naming the field', async () => {
    const result = await post('/api/v1/connections', JSON.stringify({ name: 'A', provider: 'gmail', scopes: 'all' }));
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain('scopes');
  });

  it('answers an unknown provider with 400 listing the known ones', async () => {
    const result = await post('/api/v1/connections', JSON.stringify({ name: 'A', provider: 'myspace' }));
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain('gmail');
  });

  it('answers oversized bodies with 413 payload_too_large', async () => {
    const result = await post(
      '/api/v1/connections',
      JSON.stringify({ name: 'A', provider: 'gmail', pad: 'x'.repeat(2_000_000) }),
    );
    expect(result.status).toBe(413);
    expect(result.body.error.code).toBe('payload_too_large');
  });

  it('answers a non-JSON content type with 415', async () => {
    const result = await post('/api/v1/connections', 'name=A', 'application/x-www-form-urlencoded');
    expect(result.status).toBe(415);
    expect(result.body.error.code).toBe('unsupported_media_type');
  });
});

describe('connections', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('creates, lists, reads, updates and deletes a connection without ever returning its secret', async () => {
    const created = await stack.api<{ connection: Record<string, unknown> }>('POST', '/api/v1/connections', {
      name: 'MY_GMAIL',
      provider: 'gmail',
      target: 'provider',
      oauth_client_id: 'abc.apps.googleusercontent.com',
      oauth_client_secret: 'GOCSPX-super-secret',
    });
    expect(created.status).toBe(201);
    const connection = created.body.connection;
    expect(connection).toMatchObject({
      name: 'MY_GMAIL',
      provider: 'gmail',
      target: 'provider',
      oauth_client_secret_set: true,
      scopes: [],
      redirect_uri: `${stack.url}/oauth/callback`,
    });
    expect(connection.effective_scopes).toContain('https://www.googleapis.com/auth/gmail.modify');
    expect(JSON.stringify(created.body)).not.toContain('super-secret');

    const duplicate = await stack.api('POST', '/api/v1/connections', { name: 'MY_GMAIL', provider: 'gmail' });
    expect(duplicate.status).toBe(409);

    const listed = await stack.api<{ connections: unknown[]; total_size: number }>('GET', '/api/v1/connections/app');
    expect(listed.body.total_size).toBe(1);
    expect(JSON.stringify(listed.body)).not.toContain('super-secret');

    const patched = await stack.api<{ connection: Record<string, unknown> }>(
      'PATCH',
      `/api/v1/connections/${connection.id}`,
      {
        scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      },
    );
    expect(patched.body.connection.scopes).toEqual(['https://www.googleapis.com/auth/gmail.readonly']);

    const removed = await stack.api('DELETE', `/api/v1/connections/${connection.id}`);
    expect(removed.status).toBe(200);
    const gone = await stack.api<{ error: { code: string } }>('GET', `/api/v1/connections/${connection.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
  });

  it('requires OAuth app credentials for a connection to the real provider', async () => {
    const result = await stack.api<{ error: { message: string } }>('POST', '/api/v1/connections', {
      name: 'REAL',
      provider: 'gmail',
      target: 'provider',
    });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain('oauth_client_secret');
  });

  it("refuses Google's downloaded client_secret JSON file as the secret, on create and update, never echoing it", async () => {
    const inner = 'GOCSPX-inner-secret-of-the-file';
    const file = JSON.stringify({
      web: {
        client_id: 'abc.apps.googleusercontent.com',
        project_id: 'switchboard-test',
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: 'https://oauth2.googleapis.com/token',
        client_secret: inner,
        redirect_uris: [`${stack.url}/oauth/callback`],
      },
    });
    type Failure = { error: { code: string; message: string } };
    const created = await stack.api<Failure>('POST', '/api/v1/connections', {
      name: 'PASTED_FILE',
      provider: 'gmail',
      target: 'provider',
      oauth_client_id: 'abc.apps.googleusercontent.com',
      oauth_client_secret: `\n${file}\n`,
    });
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('validation_failed');
    expect(created.body.error.message).toContain(
      "oauth_client_secret: looks like Google's downloaded client_secret JSON file: give its web.client_secret",
    );
    expect(JSON.stringify(created.body)).not.toContain(inner);
    expect(await stack.services.connections.findByName('PASTED_FILE')).toBeUndefined();

    const existing = await stack.api<{ connection: { id: string } }>('POST', '/api/v1/connections', {
      name: 'KEEPS_ITS_SECRET',
      provider: 'gmail',
      target: 'provider',
      oauth_client_id: 'abc.apps.googleusercontent.com',
      oauth_client_secret: 'GOCSPX-the-real-one',
    });
    const patched = await stack.api<Failure>('PATCH', `/api/v1/connections/${existing.body.connection.id}`, {
      oauth_client_secret: file,
    });
    expect(patched.status).toBe(400);
    expect(patched.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(patched.body)).not.toContain(inner);
    const { connections } = stack.services;
    const row = await connections.get(existing.body.connection.id);
    expect(await connections.oauthApp(row).clientSecret()).toBe('GOCSPX-the-real-one');
  });
});
