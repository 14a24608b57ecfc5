import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEncryptor, EncryptionKeyError, loadEncryptor } from '../src/crypto/envelope.js';
import { reencryptAll } from '../src/crypto/reencrypt.js';
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

  it('refuses a ciphertext moved to another row', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext, keyId } = encryptor.encrypt('hello', 'connections:conn_1:secret');
    expect(() => encryptor.decrypt(ciphertext, keyId, 'connections:conn_2:secret')).toThrow(EncryptionKeyError);
  });

  it('refuses a tampered ciphertext', () => {
    const encryptor = createEncryptor(`a:${key}`);
    const { ciphertext, keyId } = encryptor.encrypt('hello', 'ctx');
    const tampered = `${ciphertext.slice(0, -3)}${ciphertext.endsWith('A') ? 'B' : 'A'}${ciphertext.slice(-2)}`;
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
