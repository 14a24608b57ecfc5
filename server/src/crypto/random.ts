import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export type IdPrefix = 'conn' | 'ca' | 'cfg' | 'inst' | 'tcl' | 'exec' | 'ar' | 'al' | 'uv' | 'cli' | 'key' | 'evt';

/**
 * Ids are drawn from a buffer refilled from the CSPRNG 4 KB at a time (as Node does for
 * randomUUID): a tool call makes three ids, and a getrandom call for each was a measurable
 * part of its CPU. Secrets below still get their own randomBytes call.
 */
const ID_POOL_BYTES = 4096;
let idPool = Buffer.alloc(0);
let idPoolOffset = 0;

function idBytes(size: number): Uint8Array {
  if (idPoolOffset + size > idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES);
    idPoolOffset = 0;
  }
  const bytes = idPool.subarray(idPoolOffset, idPoolOffset + size);
  idPoolOffset += size;
  return bytes;
}

/** A prefixed random id, e.g. `conn_k3x…` (120 random bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${base32(idBytes(15))}`;
}

/** The base32 alphabet in ASCII order, so that ids written with it sort as their numbers do. */
const SORTED_BASE32 = '234567abcdefghijklmnopqrstuvwxyz';
/** Characters of a sortable id's time part: 10 × 5 bits hold milliseconds until the year 36812. */
const TIME_CHARS = 10;

/**
 * A prefixed id in `newId`'s format whose first 10 characters are the creation time in
 * milliseconds, so ids sort by creation time (then 70 random bits). For append-only tables
 * (the audit log, account history): a random primary key puts each insert on another B-tree
 * page, so one 32-row insert dirtied ~32 pages, each rewritten whole to the WAL; time-ordered
 * keys append to the last page (a 32-row SQLite insert into a 100,000-row log: 2.5–3.5× less CPU).
 * It tells when it was made, which the rows it names show anyway.
 */
export function newSortableId(prefix: IdPrefix, now = Date.now()): string {
  let time = '';
  let rest = Math.max(0, Math.floor(now));
  for (let i = 0; i < TIME_CHARS; i++) {
    time = SORTED_BASE32[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  // 9 random bytes = 72 bits; the first 14 base32 characters (70 bits) are kept.
  return `${prefix}_${time}${base32(idBytes(9)).slice(0, 24 - TIME_CHARS)}`;
}

/** A URL-safe secret with `bytes` random bytes (default 32 = 256 bits). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Digest of a high-entropy secret (≥ 128 random bits), for lookup and comparison.
 * A fast hash is enough here because the secret cannot be guessed; passwords would need a KDF.
 */
export function hashSecret(secret: string): string {
  // One-shot: a fifth of createHash's cost, on every MCP request (the instance URL's secret).
  return hash('sha256', secret, 'hex');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** PKCE S256 code challenge of a verifier (RFC 7636 §4.2). */
export function pkceChallenge(verifier: string): string {
  return hash('sha256', verifier, 'base64url');
}
