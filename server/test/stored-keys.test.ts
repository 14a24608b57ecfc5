import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCommand } from '../src/commands/keys.js';
import { ENCRYPTED_COLUMNS } from '../src/crypto/contexts.js';
import { createEncryptor, EncryptionKeyError } from '../src/crypto/envelope.js';
import { startServer } from '../src/main.js';
import {
  accountRow,
  createTestDatabase,
  ENGINES,
  insertConnection,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from './support/database.js';

const CURRENT = `k2:${Buffer.alloc(32, 21).toString('base64')}`;
const OLD = `k1:${Buffer.alloc(32, 22).toString('base64')}`;
const OLD_WRONG_BYTES = `k1:${Buffer.alloc(32, 23).toString('base64')}`;

describe.each(ENGINES)('the key check at every start, on %s', (engine) => {
  let db: TestDatabase;
  let base: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    base = {
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: db.dataDir,
      SWITCHBOARD_LOG_LEVEL: 'warn',
      ...(engine === 'postgres'
        ? {
            DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${db.reopen.postgresSchema}`)}`,
          }
        : {}),
    };
    // A first start seals the signing key with the current key; then a connection and an
    // account come from before the rotation, still sealed with k1.
    const first = await startServer({ ...base, SWITCHBOARD_ENCRYPTION_KEY: CURRENT });
    await first.stop();
    const now = new Date().toISOString();
    await insertConnection(db.db, 'conn_rotated', 'ROTATED', now);
    const sealed = createEncryptor(OLD).encrypt(
      '{"access_token":"a"}',
      ENCRYPTED_COLUMNS.accountTokens.context('acc_1'),
    );
    await db.db
      .insertInto('connected_accounts')
      .values(accountRow('acc_1', 'conn_rotated', { status: 'ACTIVE', tokens_enc: sealed.ciphertext, key_id: 'k1' }))
      .execute();
  });
  afterAll(() => db?.close());

  /** Starts a server and stops it, returning what it logged; or the error it refused with. */
  async function start(env: Record<string, string>): Promise<{ logs: string } | { refused: EncryptionKeyError }> {
    const logs: string[] = [];
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    try {
      const running = await startServer({ ...base, ...env }, { logDestination: destination });
      await running.stop();
      return { logs: logs.join('') };
    } catch (error) {
      if (!(error instanceof EncryptionKeyError)) throw error;
      return { refused: error };
    }
  }

  it('refuses to start when an account is sealed with a key id it is not given, though the signing keys open', async () => {
    const result = await start({ SWITCHBOARD_ENCRYPTION_KEY: CURRENT });
    if (!('refused' in result)) throw new Error(`started:\n${result.logs}`);
    expect(result.refused.code).toBe('key_not_configured');
    expect(result.refused.message).toContain(
      'cannot decrypt the secrets already in the database (sealed with key "k1", which is not configured: 1 in connected_accounts)',
    );
    expect(result.refused.message).toContain('SWITCHBOARD_ENCRYPTION_KEYS_OLD');
    expect(result.refused.message).not.toContain('signing_keys');
    expect(result.refused.message).not.toContain(CURRENT.slice(3));
  });

  it('refuses an old key of the right id but other bytes, naming it', async () => {
    const result = await start({
      SWITCHBOARD_ENCRYPTION_KEY: CURRENT,
      SWITCHBOARD_ENCRYPTION_KEYS_OLD: OLD_WRONG_BYTES,
    });
    if (!('refused' in result)) throw new Error(`started:\n${result.logs}`);
    expect(result.refused.code).toBe('key_mismatch');
    expect(result.refused.message).toMatch(
      /^the key with id "k1" in SWITCHBOARD_ENCRYPTION_KEYS_OLD cannot decrypt the secrets sealed with that id \(in connected_accounts\)/,
    );
    expect(result.refused.message).not.toContain(OLD_WRONG_BYTES.slice(3));
  });

  it('starts with the old key given as old, and warns that secrets still wait for `keys reencrypt`', async () => {
    const result = await start({ SWITCHBOARD_ENCRYPTION_KEY: CURRENT, SWITCHBOARD_ENCRYPTION_KEYS_OLD: OLD });
    if ('refused' in result) throw result.refused;
    expect(result.logs).toContain('1 stored secret(s) are still sealed with an older key');
    expect(result.logs).toContain('npx switchboard keys reencrypt');
    expect(result.logs).toContain('"table":"connected_accounts","keyId":"k1","rows":1');
    expect(result.logs).not.toContain(OLD.slice(3));
  });

  it('starts without the old key, and without a warning, once `keys reencrypt` resealed everything', async () => {
    let output = '';
    await keysCommand(
      { ...base, SWITCHBOARD_ENCRYPTION_KEY: CURRENT, SWITCHBOARD_ENCRYPTION_KEYS_OLD: OLD },
      ['reencrypt'],
      (text) => {
        output += text;
      },
    );
    expect(output).toMatch(/Re-encrypted 1 secret\(s\) with key k2: \{.*"connected_accounts":1/);
    const result = await start({ SWITCHBOARD_ENCRYPTION_KEY: CURRENT });
    if ('refused' in result) throw result.refused;
    expect(result.logs).not.toContain('older key');
  });

  it('refuses `keys reencrypt` with a new key under the old id, and changes nothing', async () => {
    const sameId = `k2:${Buffer.alloc(32, 24).toString('base64')}`;
    const error = await keysCommand(
      { ...base, SWITCHBOARD_ENCRYPTION_KEY: sameId, SWITCHBOARD_ENCRYPTION_KEYS_OLD: CURRENT },
      ['reencrypt'],
      () => {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error).toMatchObject({ code: 'key_id_conflict' });
    expect((error as Error).message).toContain('give the new key a new id, e.g. k3:');
    const account = await db.db.selectFrom('connected_accounts').select('key_id').executeTakeFirstOrThrow();
    expect(account.key_id).toBe('k2');
  });
});
