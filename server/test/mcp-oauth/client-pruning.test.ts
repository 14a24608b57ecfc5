import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRUNE_BATCH_ROWS, Retention } from '../../src/maintenance/retention.js';
import { REVOKED_GRANT_KEEP_MS, UNUSED_CLIENT_KEEP_MS } from '../../src/mcp-auth/pruning.js';
import { manualClock } from '../support/clock.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';

const HOUR = 3_600_000;

/**
 * Registration (POST /mcp-oauth/register) is open to anyone without a login, so the clients
 * nobody ever signed in with must not stay forever: the pruning job deletes them a day after
 * they registered, and keeps every client a grant or a sign-in under way still names.
 */
describe.each(ENGINES)('pruning registered MCP OAuth clients on %s', (engine) => {
  const clock = manualClock();
  let stack: Stack;
  let database: TestDatabase | undefined;
  let configId: string;
  let grants = 0;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    stack = await startStack({ database, clock });
    configId = (await stack.services.mcpConfigs.create({ name: 'pruned', description: '', mappings: [] })).id;
  });
  // The stack closes only a database it made itself.
  afterAll(async () => {
    await stack?.close();
    await database?.close();
  });

  const db = () => stack.db.db;
  const prune = () =>
    new Retention(
      { db: db(), clock, logger: stack.services.logger },
      { logRetentionDays: 0, accountEventRetentionDays: 0 },
    ).pruneOnce();

  async function register(name: string): Promise<string> {
    const response = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: name,
        redirect_uris: ['http://127.0.0.1:9/callback'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { client_id: string }).client_id;
  }

  /** A grant of `clientId` at the config, as the consent page makes it (revoked at `revokedAt` when given). */
  async function grant(clientId: string, revokedAt?: number) {
    const now = new Date(clock.now()).toISOString();
    await db()
      .insertInto('mcp_oauth_grants')
      .values({
        id: `grant_${engine}_${grants++}`,
        client_id: clientId,
        client_name: 'Signed-in client',
        client_logo: null,
        config_id: configId,
        identifier: 'john-doe',
        scope: null,
        created_at: now,
        last_used_at: null,
        revoked_at: revokedAt === undefined ? null : new Date(revokedAt).toISOString(),
        revoked_reason: revokedAt === undefined ? null : 'revoked_by_user',
      })
      .execute();
  }

  /** An authorize request of `clientId` that the user has not finished yet. */
  async function signInUnderWay(clientId: string) {
    const now = clock.now();
    await db()
      .insertInto('mcp_oauth_requests')
      .values({
        id: `req_${engine}_${clientId}`,
        handoff_hash: `handoff_${clientId}`,
        browser_hash: `browser_${clientId}`,
        csrf_token: 'csrf',
        client_id: clientId,
        client_name: 'Signing-in client',
        client_logo: null,
        redirect_uri: 'http://127.0.0.1:9/callback',
        code_challenge: 'challenge',
        config_id: configId,
        scope: null,
        state: null,
        identifier: null,
        expires_at: new Date(now + 10 * 60_000).toISOString(),
        completed_at: null,
        created_at: new Date(now).toISOString(),
        upstream_state_hash: null,
        upstream_nonce: null,
        upstream_verifier_enc: null,
        key_id: null,
      })
      .execute();
  }

  const registered = async () =>
    new Set((await db().selectFrom('mcp_oauth_clients').select('client_id').execute()).map((row) => row.client_id));

  it('deletes a client a day after it registered when nothing names it, and keeps young, signed-in and signing-in ones', async () => {
    const unused = await register('Never signed in');
    const signedIn = await register('Signed in');
    await grant(signedIn);
    const longRevoked = await register('Signed in, long since revoked');
    await grant(longRevoked, clock.now());
    const signingIn = await register('Signing in a month later');
    clock.advance(REVOKED_GRANT_KEEP_MS + HOUR);
    const young = await register('Registered 23 hours ago');
    clock.advance(UNUSED_CLIENT_KEEP_MS - HOUR);
    await signInUnderWay(signingIn);

    await prune();

    const left = await registered();
    expect(left.has(unused)).toBe(false);
    // Its only grant went in the same pass, 30 days after the revocation: nothing names it any more.
    expect(left.has(longRevoked)).toBe(false);
    expect(left.has(signedIn)).toBe(true);
    expect(left.has(signingIn)).toBe(true);
    expect(left.has(young)).toBe(true);
    // A client that is kept still works: the token endpoint knows it.
    const token = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'mcprt_unknown', client_id: signedIn }),
    });
    expect(((await token.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it(`deletes unused clients in statements of at most ${PRUNE_BATCH_ROWS} rows`, async () => {
    const total = 2 * PRUNE_BATCH_ROWS + 3;
    await db()
      .insertInto('mcp_oauth_clients')
      .values(
        Array.from({ length: total }, (_, i) => ({
          client_id: `mcpc_bulk_${i}`,
          client_name: 'Bulk',
          redirect_uris: '[]',
          token_endpoint_auth_method: 'none',
          secret_hash: null,
          logo_uri: null,
          client_uri: null,
          created_at: new Date(clock.now() - UNUSED_CLIENT_KEEP_MS - HOUR).toISOString(),
        })),
      )
      .execute();
    let deletes = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        if (
          args.node.kind === 'RawNode' &&
          /^\s*delete from mcp_oauth_clients/i.test(args.node.sqlFragments.join(''))
        ) {
          deletes++;
        }
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const pruned = await new Retention(
      { db: db().withPlugin(counting), clock, logger: stack.services.logger },
      { logRetentionDays: 0, accountEventRetentionDays: 0 },
    ).pruneOnce();
    expect(pruned.mcpOAuth).toBe(total);
    expect(deletes).toBe(3);
    expect([...(await registered())].filter((id) => id.startsWith('mcpc_bulk_'))).toEqual([]);
  });
});
