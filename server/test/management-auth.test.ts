import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countApiClients, createApiClient, verifyApiClient } from '../src/auth/api-clients.js';
import { AppError } from '../src/errors.js';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * The management token endpoint and the API clients behind it, rule by rule (issue 18's
 * mutation testing of api/management-auth.ts and auth/api-clients.ts).
 */
describe.each(ENGINES)('management authentication on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine, clock, env: { SWITCHBOARD_ACCESS_TOKEN_TTL_SECONDS: '900' } });
  });
  afterAll(() => stack?.close());

  const tokenRequest = (body: BodyInit, headers: Record<string, string> = {}) =>
    stack.fetch(`${stack.url}/oauth/token`, { method: 'POST', headers, body });
  const form = (fields: Record<string, string>) =>
    tokenRequest(new URLSearchParams(fields), { 'content-type': 'application/x-www-form-urlencoded' });
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  it('issues a token naming the client, its scope and its token version, for the management audience', async () => {
    const client = await stack.services.apiClients.create('reader', 'read');
    const response = await form({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read' });
    const claims = decodeJwt(body.access_token as string);
    expect(claims).toMatchObject({ sub: client.client_id, scope: 'read', ver: 0, iss: stack.url });
    expect(claims.aud).toBe(`${stack.url}/api`);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
  });

  it('takes the credentials as JSON, or as HTTP Basic with form-encoded halves over the body', async () => {
    const client = await stack.services.apiClients.create('json-and-basic');
    const json = await tokenRequest(
      JSON.stringify({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
      { 'content-type': 'application/json' },
    );
    expect(json.status).toBe(200);
    const viaBasic = await tokenRequest(
      new URLSearchParams({ grant_type: 'client_credentials', client_id: 'ignored', client_secret: 'ignored' }),
      { authorization: basic(client.client_id, client.client_secret) },
    );
    expect(viaBasic.status).toBe(200);
    expect(decodeJwt(((await viaBasic.json()) as { access_token: string }).access_token).sub).toBe(client.client_id);
    // A secret with ':' and '%' survives the encoding.
    const odd = await stack.services.apiClients.create('odd');
    await stack.db.db
      .updateTable('api_clients')
      .set({ secret_hash: (await import('../src/crypto/random.js')).hashSecret('p:a%ss') })
      .where('id', '=', odd.id)
      .execute();
    const encoded = await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials' }), {
      authorization: basic(odd.client_id, 'p:a%ss'),
    });
    expect(encoded.status).toBe(200);
  });

  it('ignores a Basic header without a separator, and refuses one with a broken escape as invalid_client', async () => {
    const client = await stack.services.apiClients.create('fallback');
    const noSeparator = await tokenRequest(
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
      { authorization: `Basic ${Buffer.from('no-separator-here').toString('base64')}` },
    );
    expect(noSeparator.status).toBe(200);
    // Another scheme of Basic's length is not Basic: the form's credentials count.
    const otherScheme = await tokenRequest(
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
      { authorization: `Token ${Buffer.from('sbc_wrong:wrong').toString('base64')}` },
    );
    expect(otherScheme.status).toBe(200);
    const emptyId = await tokenRequest(
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
      { authorization: `Basic ${Buffer.from(':secret').toString('base64')}` },
    );
    expect(emptyId.status).toBe(200);
    const broken = await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials' }), {
      authorization: `Basic ${Buffer.from('%E0%A4%A:secret').toString('base64')}`,
    });
    expect(broken.status).toBe(401);
    expect(broken.headers.get('www-authenticate')).toBe('Basic realm="switchboard"');
    expect(await broken.json()).toEqual({
      error: 'invalid_client',
      error_description: 'the Basic credentials are not validly encoded',
    });
  });

  it('reads each Basic half as form-urlencoded (RFC 6749 §2.3.1): + is a space, %XX a UTF-8 byte', async () => {
    const client = await stack.services.apiClients.create('form-encoded');
    const secret = 'a b+c é%';
    await stack.db.db
      .updateTable('api_clients')
      .set({ secret_hash: (await import('../src/crypto/random.js')).hashSecret(secret) })
      .where('id', '=', client.id)
      .execute();
    // What a form encoder (URLSearchParams, Python's urlencode) makes of both halves.
    const formEncode = (text: string) => new URLSearchParams({ x: text }).toString().slice(2);
    expect(formEncode(secret)).toBe('a+b%2Bc+%C3%A9%25');
    const answer = await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials' }), {
      authorization: `Basic ${Buffer.from(`${formEncode(client.client_id)}:${formEncode(secret)}`).toString('base64')}`,
    });
    expect(answer.status).toBe(200);
    for (const broken of ['%', '%zz', '%E0%A4%A', '%ED%A0%80', 'x%']) {
      const refused = await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials' }), {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${broken}`).toString('base64')}`,
      });
      expect(refused.status, broken).toBe(401);
      expect(await refused.json(), broken).toEqual({
        error: 'invalid_client',
        error_description: 'the Basic credentials are not validly encoded',
      });
    }
  });

  it('answers malformed, mistyped and oversized bodies with RFC 6749 errors', async () => {
    const bad = await tokenRequest('{not json', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(bad.headers.get('www-authenticate')).toBeNull();
    expect(await bad.json()).toEqual({ error: 'invalid_request', error_description: 'the body could not be parsed' });
    const typed = await tokenRequest(JSON.stringify({ grant_type: 'client_credentials', client_id: 7 }), {
      'content-type': 'application/json',
    });
    expect(typed.status).toBe(400);
    expect(await typed.json()).toEqual({
      error: 'invalid_request',
      error_description: 'the body has fields of the wrong type',
    });
    const big = await tokenRequest('x'.repeat(16 * 1024 + 1), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      error: 'invalid_request',
      error_description: 'the body is larger than 16384 bytes',
    });
    const justFits = await tokenRequest(`grant_type=client_credentials&pad=${'x'.repeat(16 * 1024 - 35)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(justFits.status).toBe(401);
  });

  it('refuses other grant types, missing credentials and wrong ones, with the Basic challenge on 401', async () => {
    const client = await stack.services.apiClients.create('refusals');
    const grant = await form({
      grant_type: 'password',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'only grant_type=client_credentials is supported',
    });
    const halves: Record<string, string>[] = [{ client_id: client.client_id }, { client_secret: client.client_secret }];
    for (const fields of halves) {
      const missing = await form({ grant_type: 'client_credentials', ...fields });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Basic realm="switchboard"');
      expect(await missing.json()).toEqual({
        error: 'invalid_client',
        error_description: 'client_id and client_secret are required',
      });
    }
    const wrong = await form({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: 'invalid_client',
      error_description: 'the client credentials are not valid',
    });
  });

  it('gives a revoked client no token, and a rotated one a token at its new version only with the new secret', async () => {
    const client = await stack.services.apiClients.create('lifecycle');
    await stack.services.apiClients.revoke(client.id);
    const revoked = await form({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(revoked.status).toBe(401);
    expect(await verifyApiClient(stack.db.db, client.client_id, client.client_secret)).toBeUndefined();

    const other = await stack.services.apiClients.create('rotating', 'read');
    const rotated = await stack.services.apiClients.rotateSecret(other.client_id);
    expect(rotated).toMatchObject({ id: other.id, client_id: other.client_id, name: 'rotating', scope: 'read' });
    expect(rotated.client_secret).not.toBe(other.client_secret);
    expect(await verifyApiClient(stack.db.db, other.client_id, other.client_secret)).toBeUndefined();
    expect(await verifyApiClient(stack.db.db, other.client_id, rotated.client_secret)).toEqual({
      id: other.id,
      name: 'rotating',
      scope: 'read',
      tokenVersion: 1,
    });
    const issued = await form({
      grant_type: 'client_credentials',
      client_id: other.client_id,
      client_secret: rotated.client_secret,
    });
    expect(decodeJwt(((await issued.json()) as { access_token: string }).access_token).ver).toBe(1);
  });

  it('lets a read client GET, HEAD and OPTIONS but nothing that writes; admin routes need admin', async () => {
    const reader = await stack.services.apiClients.create('read-only', 'read');
    const issued = await form({
      grant_type: 'client_credentials',
      client_id: reader.client_id,
      client_secret: reader.client_secret,
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const call = (method: string, path: string) =>
      stack.fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(method === 'POST' || method === 'DELETE' ? { body: '{}' } : {}),
      });
    expect((await call('GET', '/api/v1/connections')).status).toBe(200);
    expect((await call('HEAD', '/api/v1/connections')).status).not.toBe(403);
    expect((await call('OPTIONS', '/api/v1/connections')).status).not.toBe(403);
    const write = await call('POST', '/api/v1/connections');
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({
      error: {
        code: 'forbidden',
        message: 'this API client may only read (scope "read"); use an admin client to make changes',
      },
    });
    const clients = await call('GET', '/api/v1/clients');
    expect(clients.status).toBe(403);
    expect(await clients.json()).toMatchObject({
      error: { code: 'forbidden', message: 'this route needs an admin API client (scope "admin")' },
    });
    const admin = await stack.api('GET', '/api/v1/clients');
    expect(admin.status).toBe(200);
  });

  it('creates admin clients by default, lists them oldest first without secrets, and finds one by either id', async () => {
    const before = await countApiClients(stack.db.db);
    expect(before).toBe((await stack.db.db.selectFrom('api_clients').select('id').execute()).length);
    expect((await stack.services.apiClients.create('default-scope-too')).scope).toBe('admin');
    const created = await createApiClient(stack.db.db, clock, 'default-scope');
    expect(created).toMatchObject({ name: 'default-scope', scope: 'admin' });
    expect(created.id).toMatch(/^cli_/);
    expect(created.client_id).toMatch(/^sbc_/);
    expect(created.client_secret).toMatch(/^sbs_/);
    expect(await countApiClients(stack.db.db)).toBe(before + 2);
    clock.advance(1000);
    const later = await stack.services.apiClients.create('later');
    const listed = await stack.services.apiClients.list();
    const ids = listed.map((c) => c.id);
    expect(ids.indexOf(created.id)).toBeLessThan(ids.indexOf(later.id));
    for (const row of listed) expect(Object.keys(row)).not.toContain('secret_hash');
    const byId = await stack.services.apiClients.get(created.id);
    const byClientId = await stack.services.apiClients.get(created.client_id);
    expect(byId).toEqual(byClientId);
    expect(byId).toMatchObject({ id: created.id, client_id: created.client_id, scope: 'admin', token_version: 0 });
    expect(await failure(stack.services.apiClients.get('cli_missing'))).toMatchObject({
      code: 'not_found',
      message: 'API client cli_missing not found',
    });
  });

  it('revokes once: a second revocation keeps the first time; a revoked client cannot rotate', async () => {
    const client = await stack.services.apiClients.create('revoke-twice');
    const first = await stack.services.apiClients.revoke(client.client_id);
    expect(first.revoked_at).toBe(new Date(clock.now()).toISOString());
    clock.advance(5000);
    const second = await stack.services.apiClients.revoke(client.id);
    expect(second.revoked_at).toBe(first.revoked_at);
    expect((await stack.services.apiClients.get(client.id)).revoked_at).toBe(first.revoked_at);
    expect(await failure(stack.services.apiClients.rotateSecret(client.id))).toMatchObject({
      code: 'failed_precondition',
      message: `API client ${client.id} is revoked`,
    });
  });

  it('ends the dashboard sessions of a client it revokes or rotates, and only those', async () => {
    const [a, b, c] = await Promise.all(
      ['sessions-a', 'sessions-b', 'sessions-c'].map((n) => stack.services.apiClients.create(n)),
    );
    if (!a || !b || !c) throw new Error('clients missing');
    const now = new Date(clock.now()).toISOString();
    const later = new Date(clock.now() + 3600_000).toISOString();
    await stack.db.db
      .insertInto('dashboard_sessions')
      .values(
        [a, b, c].map((client) => ({
          id_hash: `hash-${client.id}`,
          api_client_id: client.id,
          csrf_token: 'csrf',
          created_at: now,
          last_seen_at: now,
          expires_at: later,
        })),
      )
      .execute();
    const sessions = async () =>
      (await stack.db.db.selectFrom('dashboard_sessions').select('api_client_id').execute()).map(
        (s) => s.api_client_id,
      );
    await stack.services.apiClients.revoke(a.id);
    await stack.services.apiClients.rotateSecret(b.id);
    const left = await sessions();
    expect(left).toContain(c.id);
    expect(left).not.toContain(a.id);
    expect(left).not.toContain(b.id);
  });

  it('answers the scope of a live token, and nothing for an unknown, revoked or rotated client', async () => {
    const clients = stack.services.apiClients;
    const reader = await clients.create('scope-check', 'read');
    expect(await clients.tokenScope(reader.client_id, 0)).toBe('read');
    expect(await clients.tokenScope(reader.client_id, 1)).toBeUndefined();
    expect(await clients.tokenScope('sbc_unknown', 0)).toBeUndefined();
    await clients.rotateSecret(reader.id);
    expect(await clients.tokenScope(reader.client_id, 0)).toBeUndefined();
    expect(await clients.tokenScope(reader.client_id, 1)).toBe('read');
    await clients.revoke(reader.id);
    expect(await clients.tokenScope(reader.client_id, 1)).toBeUndefined();
    // The second look at a client within a poll is answered from the api_clients cache.
    expect(await clients.tokenScope(reader.client_id, 1)).toBeUndefined();
    const lookups = await stack.services.metrics.registry.getSingleMetric('switchboard_cache_lookups_total')?.get();
    expect(lookups?.values.some((v) => v.labels.cache === 'api_clients' && v.labels.result === 'hit')).toBe(true);
  });
});

describe('the token endpoint rate limit', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60',
        SWITCHBOARD_RATE_LIMIT_MAGIC_LINK: '1/60',
        SWITCHBOARD_TRUST_PROXY: 'true',
      },
    });
  });
  afterAll(() => stack?.close());

  let addresses = 0;
  /** A token request from its own address (the proxy's X-Forwarded-For) unless `from` is given. */
  const ask = (fields: Record<string, string>, from = `10.0.0.${++addresses}`) =>
    stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'x-forwarded-for': from },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: 'x', ...fields }),
    });

  it('answers 429 with Retry-After once an address used up its requests, before checking the secret', async () => {
    const from = '192.0.2.1';
    expect((await ask({ client_id: 'sbc_one' }, from)).status).toBe(401);
    expect((await ask({ client_id: 'sbc_two' }, from)).status).toBe(401);
    const limited = await ask({ client_id: 'sbc_three' }, from);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('cache-control')).toBe('no-store');
    // The limiter's own wait (up to the 60 s window), not a default.
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(1);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
  });

  it('limits the tokens one client is issued across addresses, never its wrong secrets, and neither addresses nor clients share a bucket', async () => {
    const busy = await stack.services.apiClients.create('busy');
    // Strangers who know the id spend their addresses' requests, not the client's.
    for (let i = 0; i < 3; i++) expect((await ask({ client_id: busy.client_id })).status).toBe(401);
    const issued = () => ask({ client_id: busy.client_id, client_secret: busy.client_secret });
    expect((await issued()).status).toBe(200);
    expect((await issued()).status).toBe(200);
    expect((await issued()).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await ask({ client_id: `sbc_distinct_${i}` })).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await ask({})).status).toBe(401);
  });

  it('counts magic links per management client', async () => {
    const other = await stack.services.apiClients.create('second-admin');
    const issued = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: other.client_id,
        client_secret: other.client_secret,
      }),
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    const { access_token: otherToken } = (await issued.json()) as { access_token: string };
    const magicLink = (token: string) =>
      stack.fetch(`${stack.url}/api/v1/connected_accounts/magic_link`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ connector: 'NONE', identifier: 'x' }),
      });
    expect((await magicLink(await stack.token())).status).not.toBe(429);
    expect((await magicLink(await stack.token())).status).toBe(429);
    expect((await magicLink(otherToken)).status).not.toBe(429);
  });
});
