import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, type QueryId, SelectQueryNode, TableNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningKeys } from '../src/auth/signing-keys.js';
import { ENCRYPTED_COLUMNS } from '../src/crypto/contexts.js';
import { createEncryptor } from '../src/crypto/envelope.js';
import { reencryptAll } from '../src/crypto/reencrypt.js';
import { openDatabase } from '../src/db/database.js';
import type { Database } from '../src/db/schema.js';
import { createServices } from '../src/services.js';
import { accountRow, ENGINES, TEST_POSTGRES_URL } from './support/database.js';
import { type Stack, startStack, TEST_ENCRYPTION_KEY } from './support/stack.js';

const OAUTH_SECRET = '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';

describe.each(ENGINES)('secrets at rest on %s', (engine) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine });
    await stack.createConnection('MY_GMAIL', 'gmail', {
      oauth_client_secret: OAUTH_SECRET,
      oauth_client_id: 'sandbox-app',
      target: 'sandbox',
    });
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
  });
  afterAll(() => stack?.close());

  async function plaintextSecrets(): Promise<string[]> {
    const row = await stack.db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
    const tokens = stack.services.vault.openTokens(row);
    if (!tokens?.refresh_token) throw new Error('expected tokens');
    return [tokens.access_token, tokens.refresh_token, OAUTH_SECRET];
  }

  async function dump(): Promise<string> {
    if (engine === 'postgres') {
      return execFileSync('pg_dump', ['--data-only', `--schema=${stack.db.reopen.postgresSchema}`, TEST_POSTGRES_URL], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    }
    // Every byte SQLite wrote: the database file and its write-ahead log.
    return readdirSync(stack.db.dataDir)
      .filter((name) => name.startsWith('switchboard.db'))
      .map((name) => readFileSync(join(stack.db.dataDir, name)).toString('latin1'))
      .join('\n');
  }

  it('keeps no token or client secret in plaintext in a database dump', async () => {
    const secrets = await plaintextSecrets();
    const text = await dump();
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toContain('MY_GMAIL');
    for (const secret of secrets) expect(text.includes(secret), 'a secret appears in the dump').toBe(false);
  });

  it('re-encrypts every secret under a new key, and old rows still decrypt before that', async () => {
    const oldKey = TEST_ENCRYPTION_KEY;
    const newKey = `test2:${Buffer.alloc(32, 9).toString('base64')}`;
    const rotated = createEncryptor(newKey, [oldKey]);
    const secrets = await plaintextSecrets();
    const { reencrypted: counts, remaining } = await reencryptAll(stack.db.db, rotated);
    expect(remaining).toEqual([]);
    expect(counts.connections).toBe(1);
    expect(counts.connected_accounts).toBe(1);
    expect(counts.signing_keys).toBeGreaterThanOrEqual(1);
    const connection = await stack.db.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow();
    expect(connection.key_id).toBe('test2');
    const onlyNew = createEncryptor(newKey);
    expect(
      onlyNew.decrypt(
        connection.oauth_client_secret_enc ?? '',
        'test2',
        `connections:${connection.id}:oauth_client_secret`,
      ),
    ).toBe(OAUTH_SECRET);
    const account = await stack.db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
    expect(account.key_id).toBe('test2');
    expect(onlyNew.decrypt(account.tokens_enc ?? '', 'test2', `connected_accounts:${account.id}:tokens`)).toContain(
      secrets[0],
    );
    expect(await reencryptAll(stack.db.db, rotated)).toMatchObject({
      reencrypted: { connections: 0, connected_accounts: 0 },
      remaining: [],
    });
  });
});

describe.each(ENGINES)('key rotation on %s', (engine) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine });
    await stack.createConnection('MY_GMAIL', 'gmail', {
      oauth_client_secret: OAUTH_SECRET,
      oauth_client_id: 'sandbox-app',
      target: 'sandbox',
    });
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
  });
  afterAll(() => stack?.close());

  it('rotates every encrypted column of the schema, each row written by its own service and read back by it', async () => {
    // One row of each: a connection and an account (with the connect flow's auth request) from
    // beforeAll, the signing key from start, and an MCP instance here.
    const { services, db } = stack;
    await services.mcpConfigs.create({
      name: 'rotation',
      description: '',
      mappings: [{ connectionName: 'MY_GMAIL', tools: [] }],
    });
    const { row: instanceBefore } = await services.mcpInstances.ensure({
      configName: 'rotation',
      userIdentifier: 'john-doe',
    });
    const instanceUrl = services.mcpInstances.url(instanceBefore);
    // An MCP-client sign-in through an OpenID Connect upstream keeps its PKCE verifier sealed,
    // as the authorization server writes it (it needs an upstream issuer to run for real).
    const upstream = ENCRYPTED_COLUMNS.mcpOAuthUpstreamVerifier;
    const sealedVerifier = services.encryptor.encrypt('upstream-verifier-1', upstream.context('mreq_rotation'));
    await db.db
      .insertInto('mcp_oauth_requests')
      .values({
        id: 'mreq_rotation',
        handoff_hash: 'h',
        browser_hash: 'b',
        csrf_token: 'c',
        client_id: 'client',
        client_name: 'client',
        client_logo: null,
        redirect_uri: 'http://127.0.0.1:9/callback',
        code_challenge: 'x',
        config_id: instanceBefore.config_id,
        scope: null,
        state: null,
        identifier: null,
        expires_at: new Date(services.clock.now() + 600_000).toISOString(),
        completed_at: null,
        created_at: new Date(services.clock.now()).toISOString(),
        upstream_state_hash: null,
        upstream_nonce: null,
        upstream_verifier_enc: sealedVerifier.ciphertext,
        key_id: sealedVerifier.keyId,
      })
      .execute();
    // A re-consent waiting for the app's user verification holds its grant sealed (accounts/connect-flow.ts).
    const relink = await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      user_verify_url: 'https://app.example/verify',
    });
    expect((await stack.consent(relink.body.link)).status).toBe(302);
    const row = await db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
    const refreshToken = services.vault.openTokens(row)?.refresh_token;
    expect(refreshToken).toBeTruthy();

    const tables = await db.db.introspection.getTables();
    const schemaColumns = tables.flatMap((table) =>
      table.columns.filter((column) => column.name.endsWith('_enc')).map((column) => `${table.name}.${column.name}`),
    );
    const listed = Object.values(ENCRYPTED_COLUMNS).map((spec) => `${spec.table}.${spec.column}`);
    expect(new Set(schemaColumns), 'every *_enc column is listed in crypto/contexts.ts').toEqual(new Set(listed));

    const newKey = `test3:${Buffer.alloc(32, 11).toString('base64')}`;
    const { reencrypted: counts } = await reencryptAll(db.db, createEncryptor(newKey, [TEST_ENCRYPTION_KEY]));
    for (const spec of Object.values(ENCRYPTED_COLUMNS)) {
      expect(counts[spec.table], `${spec.table} rows re-encrypted`).toBeGreaterThanOrEqual(1);
    }

    // Only the new key from here: the services read every secret back with their own contexts.
    const onlyNew = createEncryptor(newKey);
    const signingKeys = new SigningKeys(db.db, onlyNew, services.clock);
    await signingKeys.init(db.engine);
    expect(signingKeys.jwks().keys.length).toBeGreaterThanOrEqual(1);
    const fresh = createServices({ ...services, encryptor: onlyNew, signingKeys });
    const connection = await db.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow();
    expect(fresh.connections.oauthApp(connection).clientSecret()).toBe(OAUTH_SECRET);
    const account = await db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
    expect(fresh.vault.openTokens(account)?.refresh_token).toBe(refreshToken);
    const instance = await db.db
      .selectFrom('mcp_instances')
      .selectAll()
      .where('id', '=', instanceBefore.id)
      .executeTakeFirstOrThrow();
    expect(instance.key_id).toBe('test3');
    expect(fresh.mcpInstances.url(instance)).toBe(instanceUrl);
    const request = await db.db.selectFrom('auth_requests').selectAll().executeTakeFirstOrThrow();
    expect(request.key_id).toBe('test3');
    const verifier = ENCRYPTED_COLUMNS.authRequestVerifier;
    expect(onlyNew.decrypt(request.code_verifier_enc, request.key_id, verifier.context(request.id))).toMatch(
      /^[\w-]{40,}$/,
    );
    const mcpRequest = await db.db
      .selectFrom('mcp_oauth_requests')
      .selectAll()
      .where('id', '=', 'mreq_rotation')
      .executeTakeFirstOrThrow();
    expect(mcpRequest.key_id).toBe('test3');
    expect(onlyNew.decrypt(mcpRequest.upstream_verifier_enc ?? '', 'test3', upstream.context(mcpRequest.id))).toBe(
      'upstream-verifier-1',
    );
    const held = await db.db.selectFrom('user_verifications').selectAll().executeTakeFirstOrThrow();
    expect(held.key_id).toBe('test3');
    const heldGrant = ENCRYPTED_COLUMNS.heldGrant;
    expect(JSON.parse(onlyNew.decrypt(held.tokens_enc ?? '', 'test3', heldGrant.context(held.id)))).toMatchObject({
      tokens: { refreshToken: expect.any(String) },
    });
  });
});

/**
 * The database as the pass uses it, with `replica` run once right after the pass has read
 * `table`: a write between the read and the rewrites, as another replica makes at any time.
 */
function replicaWritesAfterTheRead(
  db: Kysely<Database>,
  table: string,
  replica: () => Promise<void>,
): Kysely<Database> {
  let read: QueryId | undefined;
  return db.withPlugin({
    transformQuery({ node, queryId }) {
      const from = SelectQueryNode.is(node) ? node.from?.froms[0] : undefined;
      if (!read && from && TableNode.is(from) && from.table.identifier.name === table) read = queryId;
      return node;
    },
    async transformResult({ queryId, result }) {
      if (queryId === read) await replica();
      return result;
    },
  });
}

describe.each(ENGINES)('re-encryption while a replica still seals with the old key, on %s', (engine) => {
  // This stack is the replica that was not restarted: its current key is still the old one.
  let replicaOnOldKey: Stack;
  let accountId: string;
  beforeAll(async () => {
    replicaOnOldKey = await startStack({ engine });
    await replicaOnOldKey.createConnection('MY_GMAIL', 'gmail', {
      oauth_client_secret: OAUTH_SECRET,
      oauth_client_id: 'sandbox-app',
      target: 'sandbox',
    });
    accountId = await replicaOnOldKey.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
  });
  afterAll(() => replicaOnOldKey?.close());

  it('leaves the token it refreshed during the pass, and reports it and an account it connected, until a run after it has the new key', async () => {
    const { db, services } = replicaOnOldKey;
    const rotated = createEncryptor(`test4:${Buffer.alloc(32, 12).toString('base64')}`, [TEST_ENCRYPTION_KEY]);
    const connection = await db.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const refreshed = {
      accessToken: 'refreshed-by-the-old-replica',
      refreshToken: 'rotated-refresh',
      tokenType: 'Bearer',
    };
    // The replica's own connection, as from its own process (SQLite's one connection is busy with the read).
    const replicaConnection = await openDatabase(db.reopen);
    const duringThePass = replicaWritesAfterTheRead(db.db, 'connected_accounts', async () => {
      await replicaConnection.db
        .updateTable('connected_accounts')
        .set(services.vault.sealTokens(accountId, refreshed))
        .where('id', '=', accountId)
        .execute();
      await replicaConnection.db
        .insertInto('connected_accounts')
        .values(
          accountRow('ca_connected_meanwhile', connection.id, {
            status: 'ACTIVE',
            ...services.vault.sealTokens('ca_connected_meanwhile', refreshed),
          }),
        )
        .execute();
    });

    const { reencrypted, remaining } = await reencryptAll(duringThePass, rotated).finally(() =>
      replicaConnection.close(),
    );
    expect(reencrypted.connections).toBe(1);
    expect(reencrypted.connected_accounts, 'the one account read was refreshed before its rewrite').toBe(0);
    expect(remaining).toEqual([{ table: 'connected_accounts', keyId: 'test1', rows: 2 }]);
    const account = await db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(services.vault.openTokens(account)).toMatchObject({ access_token: 'refreshed-by-the-old-replica' });

    // Every replica restarted with the new key: the next run reseals both and leaves none.
    const again = await reencryptAll(db.db, rotated);
    expect(again.reencrypted.connected_accounts).toBe(2);
    expect(again.remaining).toEqual([]);
    const resealed = await db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(resealed.key_id).toBe('test4');
    expect(
      JSON.parse(rotated.decrypt(resealed.tokens_enc ?? '', 'test4', `connected_accounts:${accountId}:tokens`)),
    ).toMatchObject({
      access_token: 'refreshed-by-the-old-replica',
      refresh_token: 'rotated-refresh',
    });
  });
});

describe.each(ENGINES)('re-encryption of a table larger than a page, on %s', (engine) => {
  let stack: Stack;
  afterAll(() => stack?.close());

  it('reads each table a page at a time in key order and rewraps every row of every page', async () => {
    stack = await startStack({ engine });
    await stack.createConnection('MY_GMAIL', 'gmail', {
      oauth_client_secret: OAUTH_SECRET,
      oauth_client_id: 'sandbox-app',
      target: 'sandbox',
    });
    const { db, services } = stack;
    const connection = await db.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const tokens = { accessToken: 'at', refreshToken: 'rt', tokenType: 'Bearer' };
    const ids = Array.from({ length: 7 }, (_, i) => `ca_paged_${i}`);
    await db.db
      .insertInto('connected_accounts')
      .values(
        ids.map((id, i) =>
          accountRow(id, connection.id, {
            identifier: `user-${i}`,
            status: 'ACTIVE',
            ...services.vault.sealTokens(id, tokens),
          }),
        ),
      )
      .execute();
    // Rows each read of connected_accounts brought back.
    const pages: number[] = [];
    const reads = new Set<QueryId>();
    const recording = db.db.withPlugin({
      transformQuery({ node, queryId }) {
        const from = SelectQueryNode.is(node) ? node.from?.froms[0] : undefined;
        if (from && TableNode.is(from) && from.table.identifier.name === 'connected_accounts') reads.add(queryId);
        return node;
      },
      async transformResult({ queryId, result }) {
        if (reads.has(queryId)) pages.push(result.rows.length);
        return result;
      },
    });
    const rotated = createEncryptor(`test5:${Buffer.alloc(32, 13).toString('base64')}`, [TEST_ENCRYPTION_KEY]);
    const { reencrypted, remaining } = await reencryptAll(recording, rotated, 3);
    expect(reencrypted.connected_accounts).toBe(7);
    expect(remaining).toEqual([]);
    // Pages of at most 3 rows, the short one ending the walk (the reads after it are the final count's).
    expect(pages.slice(0, 3)).toEqual([3, 3, 1]);
    const rows = await db.db.selectFrom('connected_accounts').select(['id', 'key_id', 'tokens_enc']).execute();
    for (const row of rows) {
      expect(row.key_id).toBe('test5');
      expect(
        JSON.parse(rotated.decrypt(row.tokens_enc ?? '', 'test5', `connected_accounts:${row.id}:tokens`)),
      ).toMatchObject({ access_token: 'at' });
    }
  });
});
