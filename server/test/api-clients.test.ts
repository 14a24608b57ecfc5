import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirstAdmin, verifyApiClient } from '../src/auth/api-clients.js';
import { systemClock } from '../src/clock.js';
import { clientsCommand } from '../src/commands/clients.js';
import { openDatabase } from '../src/db/database.js';
import { createTestDatabase, ENGINES } from './support/database.js';
import { replicaEnv, type Stack, startStack, TEST_ENCRYPTION_KEY } from './support/stack.js';

interface Issued {
  id: string;
  client_id: string;
  client_secret: string;
  scope: string;
}

describe.each(ENGINES)('management API clients (%s)', (engine) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine });
  });
  afterAll(() => stack?.close());

  async function tokenFor(client: { client_id: string; client_secret: string }) {
    const response = await stack.fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...client }),
    });
    return { status: response.status, body: (await response.json()) as { access_token?: string; error?: string } };
  }

  async function call(token: string, method: string, path: string, body?: unknown) {
    const response = await stack.fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, never> };
  }

  async function createClient(name: string, scope?: string): Promise<Issued> {
    const created = await stack.api<{ client: Issued }>('POST', '/api/v1/clients', {
      name,
      ...(scope ? { scope } : {}),
    });
    expect(created.status).toBe(201);
    return created.body.client;
  }

  it('lists clients without their secrets, the first one an admin', async () => {
    const created = await createClient('lister');
    const listed = await stack.api<{ clients: Record<string, unknown>[] }>('GET', '/api/v1/clients');
    expect(listed.status).toBe(200);
    expect(listed.body.clients[0]).toMatchObject({
      client_id: stack.admin.client_id,
      scope: 'admin',
    });
    expect(listed.body.clients[0]).not.toHaveProperty('revoked_at');
    expect(listed.body.clients.map((c) => c.id)).toContain(created.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.client_secret);
    expect(JSON.stringify(listed.body)).not.toContain('secret_hash');
  });

  it("rejects a revoked client's token at once, and gives it no new one", async () => {
    const client = await createClient('to-revoke');
    const token = (await tokenFor(client)).body.access_token ?? '';
    expect((await call(token, 'GET', '/api/v1/connections')).status).toBe(200);
    const revoked = await stack.api<{ client: { revoked_at: string | null } }>(
      'POST',
      `/api/v1/clients/${client.id}:revoke`,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body.client.revoked_at).toBeTruthy();
    const refused = await call(token, 'GET', '/api/v1/connections');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'unauthenticated' } });
    const again = await tokenFor(client);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
  });

  it('rejects the tokens issued before a secret rotation, and the old secret; the new one works', async () => {
    const client = await createClient('to-rotate');
    const old = (await tokenFor(client)).body.access_token ?? '';
    expect((await call(old, 'GET', '/api/v1/connections')).status).toBe(200);
    const rotated = await stack.api<{ client: Issued }>('POST', `/api/v1/clients/${client.client_id}:rotate_secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.client.client_secret).not.toBe(client.client_secret);
    expect((await call(old, 'GET', '/api/v1/connections')).status).toBe(401);
    expect((await tokenFor(client)).status).toBe(401);
    const fresh = (await tokenFor({ client_id: client.client_id, client_secret: rotated.body.client.client_secret }))
      .body.access_token;
    expect((await call(fresh ?? '', 'GET', '/api/v1/connections')).status).toBe(200);
  });

  it('lets a read-only client read (200) but not write (403 forbidden) nor manage clients', async () => {
    const reader = await createClient('reader', 'read');
    expect(reader.scope).toBe('read');
    const issued = await tokenFor(reader);
    expect(issued.body).toMatchObject({ scope: 'read' });
    const token = issued.body.access_token ?? '';
    expect((await call(token, 'GET', '/api/v1/connections')).status).toBe(200);
    expect((await call(token, 'GET', '/api/v1/mcp/configs')).status).toBe(200);
    const write = await call(token, 'POST', '/api/v1/connections', { name: 'NOPE', provider: 'gmail' });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: { code: 'forbidden' } });
    expect((await call(token, 'DELETE', `/api/v1/connections/conn_x`)).status).toBe(403);
    expect((await call(token, 'GET', '/api/v1/clients')).status).toBe(403);
    expect((await call(token, 'POST', `/api/v1/clients/${reader.id}:rotate_secret`)).status).toBe(403);
  });

  it('answers 404 for an unknown client and an unknown verb', async () => {
    expect((await stack.api('POST', '/api/v1/clients/cli_nope:revoke')).status).toBe(404);
    const client = await createClient('verbs');
    expect((await stack.api('POST', `/api/v1/clients/${client.id}:explode`)).status).toBe(404);
  });

  it('the CLI lists, creates, rotates and revokes clients on the same database, seen by the running server', async () => {
    const env =
      engine === 'postgres'
        ? replicaEnv(stack)
        : { SWITCHBOARD_DATA_DIR: stack.db.dataDir, SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY };
    let out = '';
    const run = async (...args: string[]) => {
      out = '';
      await clientsCommand(env, args, (text) => {
        out += text;
      });
      return out;
    };
    const created = await run('create', '--name', 'from-cli', '--scope', 'read');
    const clientId = /client_id:\s+(\S+)/.exec(created)?.[1] ?? '';
    const secret = /client_secret:\s+(\S+)/.exec(created)?.[1] ?? '';
    expect(created).toContain('scope read');
    expect(await run('list')).toContain(clientId);
    const token = (await tokenFor({ client_id: clientId, client_secret: secret })).body.access_token ?? '';
    expect((await call(token, 'GET', '/api/v1/connections')).status).toBe(200);

    const rotated = await run('rotate-secret', clientId);
    const newSecret = /client_secret:\s+(\S+)/.exec(rotated)?.[1] ?? '';
    expect(newSecret).not.toBe(secret);
    // The CLI is another process as far as the server's caches go: the change feed tells them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(token, 'GET', '/api/v1/connections')).status).toBe(401);
    const second = (await tokenFor({ client_id: clientId, client_secret: newSecret })).body.access_token ?? '';
    expect((await call(second, 'GET', '/api/v1/connections')).status).toBe(200);

    expect(await run('revoke', clientId)).toContain('Revoked');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(second, 'GET', '/api/v1/connections')).status).toBe(401);
    expect(await run('list')).toMatch(new RegExp(`${clientId}\\s+read\\s+revoked`));
    await expect(run('revoke')).rejects.toThrow(/needs the client's id/);
    await expect(run('revoke', 'sbc_unknown')).rejects.toThrow(/not found/);
  });
});

describe.each(ENGINES)('the first admin client (%s)', (engine) => {
  it('is created exactly once when four replicas start on one empty database at the same moment', async () => {
    const database = await createTestDatabase(engine);
    const others = await Promise.all([1, 2, 3].map(() => openDatabase(database.reopen)));
    try {
      const replicas = [database, ...others];
      const created = await Promise.all(replicas.map((r) => createFirstAdmin(r.db, r.engine, systemClock)));
      const issued = created.filter((client) => client !== undefined);
      expect(issued).toHaveLength(1);
      const rows = await database.db
        .selectFrom('api_clients')
        .select(['id', 'name', 'scope', 'token_version'])
        .execute();
      expect(rows).toEqual([{ id: issued[0]?.id, name: 'admin', scope: 'admin', token_version: 0 }]);
      expect(
        await verifyApiClient(database.db, issued[0]?.client_id ?? '', issued[0]?.client_secret ?? ''),
      ).toMatchObject({
        scope: 'admin',
      });
      // A later start finds it and creates none.
      expect(await createFirstAdmin(database.db, engine, systemClock)).toBeUndefined();
    } finally {
      for (const other of others) await other.close();
      await database.close();
    }
  });
});
