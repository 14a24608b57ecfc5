import { describe, expect, it } from 'vitest';
import { newId, newSecret, safeEqual } from './random.js';

const ID = /^conn_[a-z2-7]{24}$/;

describe('newId', () => {
  it('is the prefix, an underscore and 24 base32 characters (120 bits)', () => {
    for (const prefix of ['conn', 'tcl', 'exec', 'evt'] as const) {
      expect(newId(prefix)).toMatch(new RegExp(`^${prefix}_[a-z2-7]{24}$`));
    }
  });

  it('gives 10,000 distinct ids across many refills of its random pool', () => {
    // 15 bytes an id: 10,000 ids draw about 37 pools of 4 KB.
    const ids = Array.from({ length: 10_000 }, () => newId('conn'));
    expect(ids.every((id) => ID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses the whole base32 alphabet at every position', () => {
    const ids = Array.from({ length: 2_000 }, () => newId('conn').slice('conn_'.length));
    for (let position = 0; position < 24; position++) {
      const seen = new Set(ids.map((id) => id[position]));
      // 2,000 draws of 32 equally likely characters miss one with odds of about 1e-26.
      expect(seen.size, `position ${position}`).toBe(32);
    }
  });
});

describe('newSecret', () => {
  it('is base64url of 32 random bytes by default, or of the bytes asked for', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(Buffer.from(newSecret(16), 'base64url')).toHaveLength(16);
    expect(newSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('never repeats', () => {
    const secrets = Array.from({ length: 1_000 }, () => newSecret());
    expect(new Set(secrets).size).toBe(secrets.length);
  });
});

describe('safeEqual', () => {
  it('is true only for the same string', () => {
    expect(safeEqual('s3cret', 's3cret')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('s3cret', 's3creT')).toBe(false);
    expect(safeEqual('s3cret', 's3cret!')).toBe(false);
    expect(safeEqual('s3cret', '')).toBe(false);
    // Same length in UTF-8 bytes, different in characters.
    expect(safeEqual('é', 'ee')).toBe(false);
    expect(safeEqual('Grüße', 'Grüße')).toBe(true);
  });
});
