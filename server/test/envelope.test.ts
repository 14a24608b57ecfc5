import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertKeyConfigured,
  createEncryptor,
  EncryptionKeyError,
  keyMismatchMessage,
  loadEncryptor,
  MAKE_KEY_COMMAND,
  parseMasterKey,
  unconfiguredKeysMessage,
} from '../src/crypto/envelope.js';
import { tempDir } from './support/temp-dir.js';

/**
 * envelope.ts called directly (issue 18's mutation testing of the envelope module): the
 * ciphertext format, read and written by an independent AES-GCM implementation here, each
 * refusal with its exact message, master keys and their ids, and the key file. The
 * database-level tests (nothing in plaintext in a dump, re-encryption) are in secrets.test.ts.
 */
const key = Buffer.alloc(32, 1).toString('base64');
const masterA = `a:${key}`;

/** The value an EncryptionKeyError carries, thrown by `run`. */
function refusal(run: () => unknown): EncryptionKeyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EncryptionKeyError);
    return error as EncryptionKeyError;
  }
  throw new Error('expected an EncryptionKeyError');
}

/** AES-256-GCM as the format says (iv(12) | ciphertext | tag(16), base64url), written here independently. */
function sealByHand(sealKey: Buffer, plaintext: Buffer, aad: string, iv = randomBytes(12)): string {
  const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
  cipher.setAAD(Buffer.from(aad));
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

function openByHand(openKey: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', openKey, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
}

describe('the ciphertext format', () => {
  it('is v1.<data key sealed under the master key>.<value sealed under the data key>, each bound to its context', () => {
    const encryptor = createEncryptor(masterA);
    const { ciphertext, keyId } = encryptor.encrypt('héllo wörld', 'connections:conn_1:secret');
    expect(keyId).toBe('a');
    expect(ciphertext).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [, wrapped = '', value = ''] = ciphertext.split('.');
    // iv(12) | a 32-byte data key | tag(16), and iv(12) | the UTF-8 bytes | tag(16).
    expect(Buffer.from(wrapped, 'base64url')).toHaveLength(12 + 32 + 16);
    expect(Buffer.from(value, 'base64url')).toHaveLength(12 + Buffer.byteLength('héllo wörld') + 16);
    const dataKey = openByHand(Buffer.from(key, 'base64'), wrapped, 'dek:connections:conn_1:secret');
    expect(dataKey).toHaveLength(32);
    expect(openByHand(dataKey, value, 'connections:conn_1:secret').toString('utf8')).toBe('héllo wörld');
    expect(encryptor.decrypt(ciphertext, keyId, 'connections:conn_1:secret')).toBe('héllo wörld');
  });

  it('decrypts a ciphertext sealed by hand in that format', () => {
    const dataKey = randomBytes(32);
    const wrapped = sealByHand(Buffer.from(key, 'base64'), dataKey, 'dek:ctx');
    const value = sealByHand(dataKey, Buffer.from('ünïcode ✓', 'utf8'), 'ctx');
    expect(createEncryptor(masterA).decrypt(`v1.${wrapped}.${value}`, 'a', 'ctx')).toBe('ünïcode ✓');
    // An empty value is valid: exactly iv and tag.
    const empty = sealByHand(dataKey, Buffer.alloc(0), 'ctx');
    expect(Buffer.from(empty, 'base64url')).toHaveLength(28);
    expect(createEncryptor(masterA).decrypt(`v1.${wrapped}.${empty}`, 'a', 'ctx')).toBe('');
    expect(createEncryptor(masterA).encrypt('', 'ctx').ciphertext).toMatch(/^v1\.[\w-]{80}\.[\w-]{38}$/);
  });

  it('seals the same plaintext differently each time, never reusing a GCM IV under the master key', () => {
    const encryptor = createEncryptor(masterA);
    const first = encryptor.encrypt('the same token', 'ctx').ciphertext;
    const second = encryptor.encrypt('the same token', 'ctx').ciphertext;
    expect(first).not.toBe(second);
    // The wrapped data keys are all sealed under the one master key, where a repeated IV
    // would reveal the GCM auth key.
    const ivs = new Set<string>();
    const dataKeys = new Set<string>();
    const count = 200;
    for (let i = 0; i < count; i++) {
      const [, wrapped = '', value = ''] = encryptor.encrypt('the same token', 'ctx').ciphertext.split('.');
      for (const part of [wrapped, value]) ivs.add(Buffer.from(part, 'base64url').subarray(0, 12).toString('hex'));
      dataKeys.add(openByHand(Buffer.from(key, 'base64'), wrapped, 'dek:ctx').toString('hex'));
    }
    expect(ivs.size).toBe(2 * count);
    expect(dataKeys.size).toBe(count);
  });
});

describe('decrypt refuses', () => {
  /**
   * A value sealed for connections:conn_1:secret and its parts, made inside each test: code
   * run while Vitest collects the tests is outside every test, and a planted bug there would
   * fail the file without failing a test (Stryker then counts the mutant as survived).
   */
  const sealed = () => {
    const encryptor = createEncryptor(masterA);
    const { ciphertext } = encryptor.encrypt('hello', 'connections:conn_1:secret');
    const [, wrapped = '', value = ''] = ciphertext.split('.');
    return { encryptor, ciphertext, wrapped, value };
  };
  type Sealed = ReturnType<typeof sealed>;
  const undecryptable = 'a stored secret could not be decrypted (wrong key or tampered row)';

  /** The part with one byte at `index` (negative: from the end) flipped. */
  const flipped = (part: string, index: number) => {
    const raw = Buffer.from(part, 'base64url');
    const at = index < 0 ? raw.length + index : index;
    raw[at] = (raw[at] ?? 0) ^ 0x01;
    return raw.toString('base64url');
  };

  it('a key id it does not have, before reading the ciphertext', () => {
    const { encryptor } = sealed();
    const error = refusal(() => encryptor.decrypt('not even a ciphertext', 'gone', 'ctx'));
    expect(error.message).toBe('no encryption key with id "gone" is configured');
    expect(error.name).toBe('EncryptionKeyError');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['another version', (p: Sealed) => `v2.${p.wrapped}.${p.value}`],
    ['no version', (p: Sealed) => `${p.wrapped}.${p.value}`],
    ['no value', (p: Sealed) => `v1.${p.wrapped}`],
    ['an empty data key', (p: Sealed) => `v1..${p.value}`],
    ['an empty value', (p: Sealed) => `v1.${p.wrapped}.`],
    ['an empty string', (_: Sealed) => ''],
  ])('a ciphertext with %s as an unknown format', (_, bad) => {
    const parts = sealed();
    const error = refusal(() => parts.encryptor.decrypt(bad(parts), 'a', 'connections:conn_1:secret'));
    expect(error.message).toBe('unknown ciphertext format');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['another row', (p: Sealed) => p.ciphertext, 'connections:conn_2:secret'],
    ['another column', (p: Sealed) => p.ciphertext, 'connections:conn_1:token'],
    ['a flipped data-key IV', (p: Sealed) => `v1.${flipped(p.wrapped, 0)}.${p.value}`, 'connections:conn_1:secret'],
    [
      'a flipped wrapped data key',
      (p: Sealed) => `v1.${flipped(p.wrapped, 20)}.${p.value}`,
      'connections:conn_1:secret',
    ],
    ['a flipped data-key tag', (p: Sealed) => `v1.${flipped(p.wrapped, -1)}.${p.value}`, 'connections:conn_1:secret'],
    ['a flipped value IV', (p: Sealed) => `v1.${p.wrapped}.${flipped(p.value, 0)}`, 'connections:conn_1:secret'],
    ['a flipped value byte', (p: Sealed) => `v1.${p.wrapped}.${flipped(p.value, 12)}`, 'connections:conn_1:secret'],
    ['a flipped value tag', (p: Sealed) => `v1.${p.wrapped}.${flipped(p.value, -1)}`, 'connections:conn_1:secret'],
    [
      "another value's data key",
      (p: Sealed) => `v1.${p.encryptor.encrypt('x', 'connections:conn_1:secret').ciphertext.split('.')[1]}.${p.value}`,
      'connections:conn_1:secret',
    ],
  ])('%s as undecryptable, keeping the cause', (_, bad, context) => {
    const parts = sealed();
    const error = refusal(() => parts.encryptor.decrypt(bad(parts), 'a', context));
    expect(error.message).toBe(undecryptable);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).not.toBe('ciphertext is truncated');
  });

  it('a ciphertext sealed under another key of the same id', () => {
    const { ciphertext } = sealed();
    const other = createEncryptor(`a:${Buffer.alloc(32, 2).toString('base64')}`);
    expect(refusal(() => other.decrypt(ciphertext, 'a', 'connections:conn_1:secret')).message).toBe(undecryptable);
  });

  it('a part shorter than an IV and a tag as truncated; 28 bytes is not truncated', () => {
    const { encryptor, wrapped, value } = sealed();
    const short = Buffer.alloc(27).toString('base64url');
    for (const bad of [`v1.${short}.${value}`, `v1.${wrapped}.${short}`]) {
      const error = refusal(() => encryptor.decrypt(bad, 'a', 'connections:conn_1:secret'));
      expect(error.message).toBe(undecryptable);
      expect(error.cause).toBeInstanceOf(EncryptionKeyError);
      expect((error.cause as Error).message).toBe('ciphertext is truncated');
    }
    const exact = Buffer.alloc(28).toString('base64url');
    const error = refusal(() => encryptor.decrypt(`v1.${exact}.${value}`, 'a', 'connections:conn_1:secret'));
    expect(error.message).toBe(undecryptable);
    expect((error.cause as Error).message).toBe('Unsupported state or unable to authenticate data');
  });
});

describe('master keys', () => {
  const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
  /** The id a bare key gets: "k" and the first 10 hex digits of its SHA-256. */
  const derivedId = `k${createHash('sha256').update(raw).digest('hex').slice(0, 10)}`;

  it('parses a key with its id, or names a bare key by its hash, in base64 or base64url, around blanks', () => {
    expect(parseMasterKey(` k-1_a:${raw.toString('base64')}\n`)).toEqual({ id: 'k-1_a', key: raw });
    expect(parseMasterKey(`k2:${raw.toString('base64url')}`)).toEqual({ id: 'k2', key: raw });
    expect(parseMasterKey(raw.toString('base64'))).toEqual({ id: derivedId, key: raw });
    expect(parseMasterKey(`\t${raw.toString('base64url')}  `)).toEqual({ id: derivedId, key: raw });
    // An empty id before the colon is no id: the key is named by its hash.
    expect(parseMasterKey(`:${raw.toString('base64')}`)).toEqual({ id: derivedId, key: raw });
  });

  it('takes ids of 1 to 32 letters, digits, "-" and "_"', () => {
    const ids = ['x', 'A-z_09', 'K'.repeat(32), '-', '_'];
    for (const id of ids) expect(parseMasterKey(`${id}:${key}`).id).toBe(id);
  });

  it.each(['bad id', 'x'.repeat(33), 'ok!x', 'ünï', 'a.b', 'x/'])('refuses the key id %j', (id) => {
    expect(refusal(() => parseMasterKey(`${id}:${raw.toString('base64')}`)).message).toBe(
      'an encryption key id may only use letters, digits, "-" and "_" (at most 32)',
    );
  });

  it.each([
    ['16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['16 bytes with an id', `k1:${Buffer.alloc(16, 1).toString('base64')}`],
    ['nothing', '  '],
  ])('refuses a key of %s, checked before its id', (_, spec) => {
    expect(refusal(() => createEncryptor(spec)).message).toBe(
      'an encryption key must be 32 random bytes in base64 (generate one with: openssl rand -base64 32)',
    );
    expect(refusal(() => parseMasterKey(`bad id:${spec.split(':').at(-1)}`)).message).toMatch(
      /^an encryption key must/,
    );
  });

  it('gives the command that makes a key this parser takes, with id k1', () => {
    expect(MAKE_KEY_COMMAND).toBe('echo "k1:$(openssl rand -base64 32)"');
    const made = execFileSync('sh', ['-c', MAKE_KEY_COMMAND], { encoding: 'utf8' });
    const parsed = parseMasterKey(made);
    expect(parsed.id).toBe('k1');
    expect(parsed.key).toHaveLength(32);
  });

  it('decrypts with an old key until rotation, and seals only with the current one', () => {
    const oldKey = `old:${Buffer.alloc(32, 2).toString('base64')}`;
    const sealed = createEncryptor(oldKey).encrypt('secret', 'ctx');
    expect(sealed.keyId).toBe('old');
    const rotated = createEncryptor(`new:${key}`, [oldKey]);
    expect(rotated.currentKeyId).toBe('new');
    expect(rotated.hasKey('new')).toBe(true);
    expect(rotated.hasKey('old')).toBe(true);
    expect(rotated.hasKey('gone')).toBe(false);
    expect(rotated.decrypt(sealed.ciphertext, 'old', 'ctx')).toBe('secret');
    const resealed = rotated.encrypt('secret', 'ctx');
    expect(resealed.keyId).toBe('new');
    expect(createEncryptor(`new:${key}`).decrypt(resealed.ciphertext, 'new', 'ctx')).toBe('secret');
    // The old key under its id only.
    expect(refusal(() => rotated.decrypt(sealed.ciphertext, 'new', 'ctx')).message).toBe(
      'a stored secret could not be decrypted (wrong key or tampered row)',
    );
    expect(refusal(() => rotated.decrypt(sealed.ciphertext, 'gone', 'ctx')).message).toBe(
      'no encryption key with id "gone" is configured',
    );
  });

  it('refuses a new key under the id of the old one, and says which new id to give it', () => {
    // A rotation made with the first key's command: a new k1 over the old k1.
    const oldK1 = `k1:${Buffer.alloc(32, 2).toString('base64')}`;
    const newK1 = `k1:${Buffer.alloc(32, 3).toString('base64')}`;
    const error = refusal(() => createEncryptor(newK1, [oldK1]));
    expect(error.code).toBe('key_id_conflict');
    expect(error.message).toBe(
      'the current encryption key and a key in SWITCHBOARD_ENCRYPTION_KEYS_OLD both have the id "k1" but different key material; ' +
        'give the new key a new id, e.g. k2:<its base64> (or make one with: echo "k2:$(openssl rand -base64 32)"), ' +
        'and keep the old key as k1:… in SWITCHBOARD_ENCRYPTION_KEYS_OLD',
    );
    expect(error.message).not.toContain(Buffer.alloc(32, 2).toString('base64'));
    expect(error.message).not.toContain(Buffer.alloc(32, 3).toString('base64'));
    // The id it proposes is free among the configured ones.
    const k2 = `k2:${Buffer.alloc(32, 4).toString('base64')}`;
    expect(refusal(() => createEncryptor(newK1, [k2, oldK1])).message).toContain('e.g. k3:<its base64>');
    expect(
      refusal(() => createEncryptor(`prod:${key}`, [`prod:${Buffer.alloc(32, 5).toString('base64')}`])).message,
    ).toContain('e.g. prod2:<its base64>');
  });

  it('refuses two old keys of one id and different material', () => {
    const error = refusal(() =>
      createEncryptor(masterA, [
        `old:${Buffer.alloc(32, 2).toString('base64')}`,
        `old:${Buffer.alloc(32, 3).toString('base64')}`,
      ]),
    );
    expect(error.code).toBe('key_id_conflict');
    expect(error.message).toBe(
      'two keys in SWITCHBOARD_ENCRYPTION_KEYS_OLD have the id "old" but different key material; keep only the one that sealed the stored secrets',
    );
  });

  it('takes the same key twice (the current key also listed as old) as one key', () => {
    const oldTwo = `old:${Buffer.alloc(32, 2).toString('base64')}`;
    const twice = createEncryptor(masterA, [masterA, oldTwo, ` ${oldTwo}\n`]);
    expect(twice.currentKeyId).toBe('a');
    expect(twice.decrypt(createEncryptor(masterA).encrypt('mine', 'ctx').ciphertext, 'a', 'ctx')).toBe('mine');
    expect(twice.decrypt(createEncryptor(oldTwo).encrypt('two', 'ctx').ciphertext, 'old', 'ctx')).toBe('two');
  });

  it('names a bare current key by its hash', () => {
    const encryptor = createEncryptor(raw.toString('base64'));
    expect(encryptor.currentKeyId).toBe(derivedId);
    expect(encryptor.encrypt('x', 'c').keyId).toBe(derivedId);
  });
});

describe('the key file and production mode', () => {
  const makeHint = `Make one with: ${MAKE_KEY_COMMAND} and keep it in your secret manager; every stored token is lost with it.`;

  it('creates a 0600 key file in a new 0700 data directory with a warning when no key is configured', () => {
    const dir = join(tempDir('sb-key-'), 'nested', 'data');
    const file = join(dir, 'encryption.key');
    const warnings: string[] = [];
    const first = loadEncryptor({ old: [] }, dir, (message) => warnings.push(message));
    expect(warnings).toEqual([
      `SWITCHBOARD_ENCRYPTION_KEY is not set: created a key file at ${file} (mode 0600). ` +
        'Fine for a laptop; in production set SWITCHBOARD_ENCRYPTION_KEY from your secret manager.',
    ]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const spec = readFileSync(file, 'utf8');
    expect(spec).toMatch(/^k1:[A-Za-z0-9+/]{43}=\n$/);
    expect(first.currentKeyId).toBe('k1');
    expect(parseMasterKey(spec).key).toHaveLength(32);

    const second = loadEncryptor({ old: [] }, dir, (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe(spec);
    const { ciphertext, keyId } = first.encrypt('x', 'c');
    expect(second.decrypt(ciphertext, keyId, 'c')).toBe('x');
  });

  it('reads old keys next to the key file', () => {
    const dir = tempDir('sb-key-');
    writeFileSync(join(dir, 'encryption.key'), `k2:${key}\n`, { mode: 0o600 });
    const oldKey = `k1:${Buffer.alloc(32, 5).toString('base64')}`;
    const sealed = createEncryptor(oldKey).encrypt('from before', 'ctx');
    const loaded = loadEncryptor({ old: [oldKey] }, dir, () => undefined);
    expect(loaded.currentKeyId).toBe('k2');
    expect(loaded.decrypt(sealed.ciphertext, 'k1', 'ctx')).toBe('from before');
  });

  it('uses a configured key and its old keys, and then neither reads nor writes a key file', () => {
    const dir = tempDir('sb-key-');
    const oldKey = `old:${Buffer.alloc(32, 5).toString('base64')}`;
    const sealed = createEncryptor(oldKey).encrypt('from before', 'ctx');
    const warnings: string[] = [];
    const loaded = loadEncryptor({ current: masterA, old: [oldKey] }, dir, (message) => warnings.push(message));
    expect(loaded.currentKeyId).toBe('a');
    expect(loaded.decrypt(sealed.ciphertext, 'old', 'ctx')).toBe('from before');
    expect(readdirSync(dir)).toEqual([]);
    expect(warnings).toEqual([]);
    // Even a key file others can read is ignored.
    writeFileSync(join(dir, 'encryption.key'), `k1:${key}\n`, { mode: 0o644 });
    expect(loadEncryptor({ current: masterA, old: [] }, dir, () => undefined).currentKeyId).toBe('a');
  });

  it('refuses to start in production without a key, saying how to make one', () => {
    const dir = tempDir('sb-key-');
    const expected = `SWITCHBOARD_ENCRYPTION_KEY is required in production mode (DATABASE_URL is set). ${makeHint}`;
    expect(refusal(() => assertKeyConfigured({ old: [] }, dir, 'DATABASE_URL is set')).message).toBe(expected);
    expect(
      refusal(() => loadEncryptor({ old: [] }, dir, () => undefined, { production: 'DATABASE_URL is set' })).message,
    ).toBe(expected);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to start in production without a key, pointing at the key file the data directory has', () => {
    const dir = tempDir('sb-key-');
    const file = join(dir, 'encryption.key');
    writeFileSync(file, `k1:${key}\n`, { mode: 0o600 });
    expect(refusal(() => assertKeyConfigured({ old: [] }, dir, 'the public URL is not loopback')).message).toBe(
      'SWITCHBOARD_ENCRYPTION_KEY is required in production mode (the public URL is not loopback). ' +
        `This data directory has a key file: keep using its key with SWITCHBOARD_ENCRYPTION_KEY="$(cat ${file})", then move it to your secret manager.`,
    );
  });

  it('passes with a key in production, and without one outside production', () => {
    const dir = tempDir('sb-key-');
    expect(() => assertKeyConfigured({ current: masterA, old: [] }, dir, 'DATABASE_URL is set')).not.toThrow();
    expect(() => assertKeyConfigured({ old: [] }, dir, undefined)).not.toThrow();
    expect(() => assertKeyConfigured({ old: [] }, dir, '')).not.toThrow();
    const configured = loadEncryptor({ current: masterA, old: [] }, dir, () => undefined, {
      production: 'DATABASE_URL is set',
    });
    expect(configured.currentKeyId).toBe('a');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never makes a new key file for a database that already holds sealed secrets', () => {
    const dir = tempDir('sb-key-');
    const file = join(dir, 'encryption.key');
    expect(refusal(() => loadEncryptor({ old: [] }, dir, () => undefined, { sealedKeyId: 'k1' })).message).toBe(
      `${file} is missing, but the database holds secrets sealed with key "k1"; a new key would not open them. ` +
        `Restore the key file from a backup (chmod 600 ${file}), or set SWITCHBOARD_ENCRYPTION_KEY to the key that sealed them.`,
    );
    expect(existsSync(file)).toBe(false);
    // With the key file there, the sealed key id is no obstacle.
    writeFileSync(file, `k1:${key}\n`, { mode: 0o600 });
    expect(loadEncryptor({ old: [] }, dir, () => undefined, { sealedKeyId: 'k1' }).currentKeyId).toBe('k1');
  });

  it.each([0o640, 0o604, 0o660, 0o610])('refuses a key file with mode %o that others can reach', (mode) => {
    const dir = tempDir('sb-key-');
    const file = join(dir, 'encryption.key');
    writeFileSync(file, `k1:${key}\n`);
    chmodSync(file, mode);
    expect(refusal(() => loadEncryptor({ old: [] }, dir, () => undefined)).message).toBe(
      `${file} can be read by other users (mode 0${mode.toString(8)}); fix it with: chmod 600 ${file}`,
    );
  });

  it.each([0o400, 0o700])('reads a key file with mode %o', (mode) => {
    const dir = tempDir('sb-key-');
    const file = join(dir, 'encryption.key');
    writeFileSync(file, `k7:${key}\n`);
    chmodSync(file, mode);
    expect(loadEncryptor({ old: [] }, dir, () => undefined).currentKeyId).toBe('k7');
  });
});

describe('the message for a key that cannot open the stored secrets', () => {
  const advice =
    'Restore the key that sealed them (the key file from a backup, or the earlier SWITCHBOARD_ENCRYPTION_KEY), ' +
    'or, after a deliberate rotation (the new key under a new id, e.g. k2:…), put the old key in SWITCHBOARD_ENCRYPTION_KEYS_OLD and run `npx switchboard keys reencrypt`.';

  it('names the key file and the id the secrets were sealed with', () => {
    expect(keyMismatchMessage('k1', '/var/lib/switchboard', true)).toBe(
      `the encryption key (the key file ${join('/var/lib/switchboard', 'encryption.key')}) cannot decrypt the secrets already in the database (sealed with key "k1"); nothing was changed. ${advice}`,
    );
  });

  it('names the environment variable, and leaves out an unknown key id', () => {
    expect(keyMismatchMessage(undefined, '/data', false)).toBe(
      `the encryption key (SWITCHBOARD_ENCRYPTION_KEY) cannot decrypt the secrets already in the database; nothing was changed. ${advice}`,
    );
    expect(keyMismatchMessage('', '/data', false)).toBe(keyMismatchMessage(undefined, '/data', false));
  });

  it('names each key id that is not configured and where its secrets are, never a key', () => {
    expect(unconfiguredKeysMessage([{ keyId: 'k0', table: 'connected_accounts', rows: 3 }], '/data', false)).toBe(
      `the encryption key (SWITCHBOARD_ENCRYPTION_KEY) cannot decrypt the secrets already in the database (sealed with key "k0", which is not configured: 3 in connected_accounts); nothing was changed. ${advice}`,
    );
    expect(
      unconfiguredKeysMessage(
        [
          { keyId: 'k0', table: 'connections', rows: 1 },
          { keyId: 'kx', table: 'connections', rows: 2 },
          { keyId: 'k0', table: 'connected_accounts', rows: 5 },
        ],
        '/data',
        true,
      ),
    ).toContain(
      `(the key file ${join('/data', 'encryption.key')}) cannot decrypt the secrets already in the database (sealed with keys "k0" and "kx", which are not configured: 1 in connections under "k0", 2 in connections under "kx", 5 in connected_accounts under "k0")`,
    );
  });
});
