import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncryptionKeyConfig } from '../config.js';

/**
 * Envelope encryption with AES-256-GCM. Each value gets its own random data key; the data
 * key is wrapped by a master key (the key-encryption key) named by its id. The row keeps
 * the master key id, so master keys rotate: old rows still decrypt with an old key until
 * `reencrypt` rewraps them. Additional data binds a ciphertext to its row and column, so a
 * ciphertext copied into another row does not decrypt.
 *
 * Format: `v1.<wrapped data key>.<value>`, each part base64url of iv(12) | ciphertext | tag(16).
 */
export interface Encryptor {
  readonly currentKeyId: string;
  encrypt(plaintext: string, context: string): { ciphertext: string; keyId: string };
  decrypt(ciphertext: string, keyId: string, context: string): string;
  hasKey(keyId: string): boolean;
}

/** Why a key, a key file or a stored secret was refused: a closed set, so callers and tests match on it, not on words. */
export type EncryptionKeyErrorCode =
  /** Not 32 bytes of base64, or an id with other characters. */
  | 'key_invalid'
  /** Two configured keys share an id but not their bytes. */
  | 'key_id_conflict'
  /** Production mode without SWITCHBOARD_ENCRYPTION_KEY. */
  | 'key_required'
  /** The key file is gone while the database holds secrets it sealed. */
  | 'key_file_missing'
  /** The key file can be read by other users. */
  | 'key_file_unsafe'
  /** A stored secret names a key id that no configured key has. */
  | 'key_not_configured'
  /** The configured key of a stored secret's id does not open it. */
  | 'key_mismatch'
  /** Not a v1 ciphertext, or truncated. */
  | 'ciphertext_invalid'
  /** The key did not open the ciphertext: another key of the same id, or a tampered row. */
  | 'decrypt_failed';

export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
  constructor(
    readonly code: EncryptionKeyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface MasterKey {
  id: string;
  key: Buffer;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 28) throw new EncryptionKeyError('ciphertext_invalid', 'ciphertext is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
}

/** Parses `id:base64key` or a bare base64 key (its id is then derived from its hash). */
export function parseMasterKey(spec: string): MasterKey {
  const trimmed = spec.trim();
  const separator = trimmed.indexOf(':');
  const id = separator > 0 ? trimmed.slice(0, separator) : undefined;
  const encoded = separator > 0 ? trimmed.slice(separator + 1) : trimmed;
  const key = Buffer.from(encoded, /[-_]/.test(encoded) ? 'base64url' : 'base64');
  if (key.length !== 32) {
    throw new EncryptionKeyError(
      'key_invalid',
      'an encryption key must be 32 random bytes in base64 (generate one with: openssl rand -base64 32)',
    );
  }
  if (id !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
    throw new EncryptionKeyError(
      'key_invalid',
      'an encryption key id may only use letters, digits, "-" and "_" (at most 32)',
    );
  }
  return { id: id ?? `k${createHash('sha256').update(key).digest('hex').slice(0, 10)}`, key };
}

/** An id for a new key that none of `taken` has: the next number after `id`'s (k1 → k2, prod → prod2). */
function nextKeyId(id: string, taken: (id: string) => boolean): string {
  const [, stem = id, digits = ''] = /^(.*?)(\d*)$/.exec(id) ?? [];
  for (let n = digits ? Number(digits) + 1 : 2; ; n++) {
    const candidate = `${stem.slice(0, 32 - String(n).length)}${n}`;
    if (!taken(candidate)) return candidate;
  }
}

export function createEncryptor(current: string, old: string[] = []): Encryptor {
  const primary = parseMasterKey(current);
  const olds = old.map(parseMasterKey);
  const keys = new Map<string, Buffer>([[primary.id, primary.key]]);
  for (const parsed of olds) {
    const known = keys.get(parsed.id);
    // A row names only its key id, so two keys under one id would leave one key's rows
    // unopenable. The same key twice (the current key also listed as old) is harmless.
    if (known?.equals(parsed.key)) continue;
    if (known) {
      const id = nextKeyId(parsed.id, (candidate) => candidate === primary.id || olds.some((o) => o.id === candidate));
      throw new EncryptionKeyError(
        'key_id_conflict',
        parsed.id === primary.id
          ? `the current encryption key and a key in SWITCHBOARD_ENCRYPTION_KEYS_OLD both have the id "${parsed.id}" but different key material; ` +
              `give the new key a new id, e.g. ${id}:<its base64> (or make one with: ${makeKeyCommand(id)}), and keep the old key as ${parsed.id}:… in SWITCHBOARD_ENCRYPTION_KEYS_OLD`
          : `two keys in SWITCHBOARD_ENCRYPTION_KEYS_OLD have the id "${parsed.id}" but different key material; keep only the one that sealed the stored secrets`,
      );
    }
    keys.set(parsed.id, parsed.key);
  }
  return {
    currentKeyId: primary.id,
    hasKey: (keyId) => keys.has(keyId),
    encrypt(plaintext, context) {
      const dataKey = randomBytes(32);
      const wrapped = seal(primary.key, dataKey, `dek:${context}`);
      const value = seal(dataKey, Buffer.from(plaintext, 'utf8'), context);
      return { ciphertext: `v1.${wrapped}.${value}`, keyId: primary.id };
    },
    decrypt(ciphertext, keyId, context) {
      const master = keys.get(keyId);
      if (!master) {
        throw new EncryptionKeyError('key_not_configured', `no encryption key with id "${keyId}" is configured`);
      }
      const [version, wrapped, value] = ciphertext.split('.');
      if (version !== 'v1' || !wrapped || !value) {
        throw new EncryptionKeyError('ciphertext_invalid', 'unknown ciphertext format');
      }
      try {
        const dataKey = open(master, wrapped, `dek:${context}`);
        return open(dataKey, value, context).toString('utf8');
      } catch (cause) {
        const message = 'a stored secret could not be decrypted (wrong key or tampered row)';
        throw new EncryptionKeyError('decrypt_failed', message, { cause });
      }
    },
  };
}

/** The command that makes a key with this id in the form SWITCHBOARD_ENCRYPTION_KEY expects (`id:base64`). */
export function makeKeyCommand(id: string): string {
  return `echo "${id}:$(openssl rand -base64 32)"`;
}

/** The command that makes a deployment's first key; a rotation's new key needs another id (k2). */
export const MAKE_KEY_COMMAND = makeKeyCommand('k1');

export interface KeyGuard {
  /** Why this is production mode (it then needs SWITCHBOARD_ENCRYPTION_KEY); undefined in the embedded default. */
  production?: string;
  /** A key id that rows already in the database were sealed with; a new key file would not open them. */
  sealedKeyId?: string;
}

/** Production mode (`production` says why) needs SWITCHBOARD_ENCRYPTION_KEY: checked before anything else starts. */
export function assertKeyConfigured(
  config: EncryptionKeyConfig,
  dataDir: string,
  production: string | undefined,
): void {
  if (config.current || !production) return;
  const file = join(dataDir, 'encryption.key');
  throw new EncryptionKeyError(
    'key_required',
    `SWITCHBOARD_ENCRYPTION_KEY is required in production mode (${production}). ` +
      (existsSync(file)
        ? `This data directory has a key file: keep using its key with SWITCHBOARD_ENCRYPTION_KEY="$(cat ${file})", then move it to your secret manager.`
        : `Make one with: ${MAKE_KEY_COMMAND} and keep it in your secret manager; every stored token is lost with it.`),
  );
}

/**
 * The master key of this deployment: from configuration, or in the embedded default a key
 * file created once with mode 0600 in the data directory. Never makes a new key for a
 * database that already holds secrets, and never reads a key file others can read.
 */
export function loadEncryptor(
  config: EncryptionKeyConfig,
  dataDir: string,
  warn: (message: string) => void,
  guard: KeyGuard = {},
): Encryptor {
  assertKeyConfigured(config, dataDir, guard.production);
  if (config.current) return createEncryptor(config.current, config.old);
  const file = join(dataDir, 'encryption.key');
  if (!existsSync(file)) {
    if (guard.sealedKeyId !== undefined) {
      throw new EncryptionKeyError(
        'key_file_missing',
        `${file} is missing, but the database holds secrets sealed with key "${guard.sealedKeyId}"; a new key would not open them. ` +
          `Restore the key file from a backup (chmod 600 ${file}), or set SWITCHBOARD_ENCRYPTION_KEY to the key that sealed them.`,
      );
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const spec = `k1:${randomBytes(32).toString('base64')}`;
    writeFileSync(file, `${spec}\n`, { mode: 0o600, flag: 'wx' });
    warn(
      `SWITCHBOARD_ENCRYPTION_KEY is not set: created a key file at ${file} (mode 0600). ` +
        'Fine for a laptop; in production set SWITCHBOARD_ENCRYPTION_KEY from your secret manager.',
    );
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new EncryptionKeyError(
      'key_file_unsafe',
      `${file} can be read by other users (mode 0${mode.toString(8)}); fix it with: chmod 600 ${file}`,
    );
  }
  return createEncryptor(readFileSync(file, 'utf8'), config.old);
}

const RESTORE_ADVICE =
  'Restore the key that sealed them (the key file from a backup, or the earlier SWITCHBOARD_ENCRYPTION_KEY), ' +
  'or, after a deliberate rotation (the new key under a new id, e.g. k2:…), put the old key in SWITCHBOARD_ENCRYPTION_KEYS_OLD and run `npx switchboard keys reencrypt`.';

function keySource(dataDir: string, fromFile: boolean): string {
  return fromFile ? `the key file ${join(dataDir, 'encryption.key')}` : 'SWITCHBOARD_ENCRYPTION_KEY';
}

/** Why a stored secret did not open at start, and what to do about it. */
export function keyMismatchMessage(keyId: string | undefined, dataDir: string, fromFile: boolean): string {
  return (
    `the encryption key (${keySource(dataDir, fromFile)}) cannot decrypt the secrets already in the database` +
    `${keyId ? ` (sealed with key "${keyId}")` : ''}; nothing was changed. ${RESTORE_ADVICE}`
  );
}

/** Stored secrets name key ids no configured key has: which ids, in which tables (how many rows), and what to do. */
export function unconfiguredKeysMessage(
  sealed: ReadonlyArray<{ keyId: string; table: string; rows: number }>,
  dataDir: string,
  fromFile: boolean,
): string {
  const ids = [...new Set(sealed.map((s) => `"${s.keyId}"`))];
  const several = ids.length > 1;
  const where = sealed.map((s) => `${s.rows} in ${s.table}${several ? ` under "${s.keyId}"` : ''}`).join(', ');
  return (
    `the encryption key (${keySource(dataDir, fromFile)}) cannot decrypt the secrets already in the database ` +
    `(sealed with ${several ? `keys ${ids.join(' and ')}, which are` : `key ${ids[0]}, which is`} not configured: ${where}); ` +
    `nothing was changed. ${RESTORE_ADVICE}`
  );
}
