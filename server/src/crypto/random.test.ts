import { describe, expect, it } from 'vitest';
import { newId, newSecret, newSortableId, safeEqual } from './random.js';

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

describe('newSortableId', () => {
  it("has newId's format: the prefix, an underscore and 24 base32 characters", () => {
    for (const prefix of ['tcl', 'evt'] as const) {
      expect(newSortableId(prefix)).toMatch(new RegExp(`^${prefix}_[a-z2-7]{24}$`));
    }
    expect(newSortableId('tcl', 0)).toMatch(/^tcl_2{10}[a-z2-7]{14}$/);
  });

  it('sorts as the milliseconds it was made at, across every digit of its time part', () => {
    const times = [0, 1, 31, 32, 1023, 1024, 1_700_000_000_000, 1_700_000_000_001, 1_764_000_000_000, 2 ** 48 - 1];
    const ids = times.map((t) => newSortableId('tcl', t));
    expect([...ids].sort()).toEqual(ids);
    // Plain string order (what a B-tree over the text column uses), not only localeCompare.
    for (let i = 1; i < ids.length; i++) expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true);
    expect(newSortableId('tcl', 1024).slice(4, 14)).toBe('2222222322');
  });

  it('differs within one millisecond, and keeps every random character in use', () => {
    const ids = Array.from({ length: 2_000 }, () => newSortableId('tcl', 1_764_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(4, 14))).size).toBe(1);
    for (let position = 14; position < 28; position++) {
      expect(new Set(ids.map((id) => id[position])).size, `position ${position}`).toBe(32);
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
