import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningKeys } from '../src/auth/signing-keys.js';
import { ENCRYPTED_COLUMNS } from '../src/crypto/contexts.js';
import { createEncryptor, EncryptionKeyError, loadEncryptor, parseMasterKey } from '../src/crypto/envelope.js';
import { reencryptAll } from '../src/crypto/reencrypt.js';
import { createServices } from '../src/services.js';
import { ENGINES, TEST_POSTGRES_URL } from './support/database.js';
import { type Stack, startStack, TEST_ENCRYPTION_KEY } from './support/stack.js';

const OAUTH_SECRET = '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';

describe('envelope encryption', () => {
  const key = Buffer.alloc(32, 1).toString('base64');

  it('round-trips a value bound to its row and column', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext, keyId } = encryptor.encrypt('hello', 'connections:conn_1:secret');
    expect(keyId).toBe('a');
    expect(ciphertext).not.toContain('hello');
    expect(encryptor.decrypt(ciphertext, keyId, 'connections:conn_1:secret')).toBe('hello');
  });

  it('seals the same plaintext differently each time, never reusing a GCM IV under the master key', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const first = encryptor.encrypt('the same token', 'ctx').ciphertext;
    const second = encryptor.encrypt('the same token', 'ctx').ciphertext;
    expect(first).not.toBe(second);
    // Each part is base64url of iv(12) | ciphertext | tag(16); the wrapped data keys are all
    // sealed under the one master key, where a repeated IV would reveal the GCM auth key.
    const ivs = new Set<string>();
    const count = 200;
    for (let i = 0; i < count; i++) {
      const [, wrapped = '', value = ''] = encryptor.encrypt('the same token', 'ctx').ciphertext.split('.');
      for (const part of [wrapped, value]) {
        const raw = Buffer.from(part, 'base64url');
        expect(raw.length).toBeGreaterThanOrEqual(12 + 16);
        ivs.add(raw.subarray(0, 12).toString('hex'));
      }
    }
    expect(ivs.size).toBe(2 * count);
  });

  it('refuses a ciphertext moved to another row', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext, keyId } = encryptor.encrypt('hello', 'connections:conn_1:secret');
    expect(() => encryptor.decrypt(ciphertext, keyId, 'connections:conn_2:secret')).toThrow(EncryptionKeyError);
  });

  it('refuses a tampered ciphertext', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext, keyId } = encryptor.encrypt('hello', 'ctx');
    const tampered = `${ciphertext.slice(0, -3)}${ciphertext.at(-3) === 'A' ? 'B' : 'A'}${ciphertext.slice(-2)}`;
    expect(() => encryptor.decrypt(tampered, keyId, 'ctx')).toThrow(EncryptionKeyError);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => createEncryptor(Buffer.alloc(16).toString('base64'))).toThrow(/32 random bytes/);
  });

  it('creates a 0600 key file with a warning when no key is configured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-key-'));
    const warnings: string[] = [];
    const first = loadEncryptor({ old: [] }, dir, (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SWITCHBOARD_ENCRYPTION_KEY is not set');
    expect(statSync(join(dir, 'encryption.key')).mode & 0o777).toBe(0o600);
    const second = loadEncryptor({ old: [] }, dir, (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    const { ciphertext, keyId } = first.encrypt('x', 'c');
    expect(second.decrypt(ciphertext, keyId, 'c')).toBe('x');
  });

  it('parses a key with its id, or names a bare key by its hash, in base64 or base64url, around blanks', () => {
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
    expect(parseMasterKey(` k-1_a:${raw.toString('base64')}\n`)).toEqual({ id: 'k-1_a', key: raw });
    expect(parseMasterKey(`k2:${raw.toString('base64url')}`)).toEqual({ id: 'k2', key: raw });
    const bare = parseMasterKey(raw.toString('base64'));
    expect(bare.key).toEqual(raw);
    expect(bare.id).toMatch(/^k[0-9a-f]{10}$/);
    expect(parseMasterKey(raw.toString('base64url')).id).toBe(bare.id);
    expect(() => parseMasterKey(`bad id:${raw.toString('base64')}`)).toThrow(/key id may only use/);
    expect(() => parseMasterKey(`${'x'.repeat(33)}:${raw.toString('base64')}`)).toThrow(/key id may only use/);
    expect(() => parseMasterKey(`ok!x:${raw.toString('base64')}`)).toThrow(/key id may only use/);
  });

  it('decrypts with an old key until rotation, refuses an unknown key id, and keeps the first of two keys with one id', () => {
    const oldKey = `old:${Buffer.alloc(32, 2).toString('base64')}`;
    const sealed = createEncryptor(oldKey).encrypt('secret', 'ctx');
    const rotated = createEncryptor(`new:${key}`, [oldKey, `old:${Buffer.alloc(32, 3).toString('base64')}`]);
    expect(rotated.currentKeyId).toBe('new');
    expect(rotated.hasKey('old')).toBe(true);
    expect(rotated.hasKey('gone')).toBe(false);
    expect(rotated.decrypt(sealed.ciphertext, 'old', 'ctx')).toBe('secret');
    expect(() => rotated.decrypt(sealed.ciphertext, 'gone', 'ctx')).toThrow(/no encryption key with id "gone"/);
  });

  it('refuses malformed and truncated ciphertexts with an EncryptionKeyError that keeps its cause', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext } = encryptor.encrypt('hello', 'ctx');
    const [, wrapped, value] = ciphertext.split('.');
    for (const bad of [`v2.${wrapped}.${value}`, `v1.${wrapped}`, `v1..${value}`, `v1.${wrapped}.`]) {
      expect(() => encryptor.decrypt(bad, 'a', 'ctx'), bad).toThrow(/unknown ciphertext format/);
    }
    const short = Buffer.alloc(27).toString('base64url');
    try {
      encryptor.decrypt(`v1.${short}.${value}`, 'a', 'ctx');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EncryptionKeyError);
      expect((error as Error).name).toBe('EncryptionKeyError');
      expect((error as Error).message).toContain('could not be decrypted');
      expect(((error as Error).cause as Error).message).toBe('ciphertext is truncated');
    }
    // Exactly 28 bytes is an empty value with its IV and tag: not truncated, just wrong.
    const empty = Buffer.alloc(28).toString('base64url');
    expect(() => encryptor.decrypt(`v1.${empty}.${value}`, 'a', 'ctx')).toThrow(
      expect.objectContaining({ cause: expect.not.objectContaining({ message: 'ciphertext is truncated' }) }),
    );
  });

  it('refuses to start in production without a key, and with one ignores the key file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-key-'));
    expect(() => loadEncryptor({ old: [] }, dir, () => undefined, { production: 'DATABASE_URL is set' })).toThrow(
      /SWITCHBOARD_ENCRYPTION_KEY is required in production mode \(DATABASE_URL is set\)/,
    );
    const configured = loadEncryptor({ current: `a:${key}`, old: [] }, dir, () => undefined, {
      production: 'DATABASE_URL is set',
    });
    expect(configured.currentKeyId).toBe('a');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never makes a new key file for a database that already holds sealed secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-key-'));
    expect(() => loadEncryptor({ old: [] }, dir, () => undefined, { sealedKeyId: 'k1' })).toThrow(
      /encryption.key is missing, but the database holds secrets sealed with key "k1"/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a key file that other users can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-key-'));
    writeFileSync(join(dir, 'encryption.key'), `k1:${key}\n`);
    chmodSync(join(dir, 'encryption.key'), 0o640);
    expect(() => loadEncryptor({ old: [] }, dir, () => undefined)).toThrow(/can be read by other users \(mode 0640\)/);
  });
});

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
    const counts = await reencryptAll(stack.db.db, rotated);
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
    expect(await reencryptAll(stack.db.db, rotated)).toMatchObject({ connections: 0, connected_accounts: 0 });
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
    const counts = await reencryptAll(db.db, createEncryptor(newKey, [TEST_ENCRYPTION_KEY]));
    for (const spec of Object.values(ENCRYPTED_COLUMNS)) {
      expect(counts[spec.table], `${spec.table} rows re-encrypted`).toBeGreaterThanOrEqual(1);
    }

    // Only the new key from here: the services read every secret back with their own contexts.
    const onlyNew = createEncryptor(newKey);
    const signingKeys = new SigningKeys(db.db, onlyNew, services.clock);
    await signingKeys.init();
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
  });
});
