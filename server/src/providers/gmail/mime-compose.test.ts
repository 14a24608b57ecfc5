import { describe, expect, test } from 'vitest';
import { cpuTimeMs } from '../../../test/support/cpu-time.js';
import { formatAddressList, isEmailAddress } from './mime-compose.js';

describe('recipient addresses', () => {
  test.each([
    ['john.doe@example.com', true],
    ['a@b.co', true],
    ['first.last+tag@mail.example.co.uk', true],
    ['a@b.c.d', true],
    ['', false],
    ['@example.com', false],
    ['john@', false],
    ['john@example', false],
    ['john@.com', false],
    ['john@example.', false],
    ['jo hn@example.com', false],
    ['john@exa mple.com', false],
    ['john@@example.com', false],
    ['john@ex@ample.com', false],
    ['jo<hn@example.com', false],
    ['john@example.com)', false],
    ['"john"@example.com', false],
  ])('%s is an address: %s', (address, expected) => {
    expect(isEmailAddress(address)).toBe(expected);
  });

  test('a hostile megabyte of dots is refused in linear time', async () => {
    for (const hostile of [
      `a@${'.'.repeat(1_000_000)}x;`,
      `${'a'.repeat(1_000_000)}@@`,
      `a@b${'.c'.repeat(500_000)} `,
    ]) {
      const { value, ms } = await cpuTimeMs(() => isEmailAddress(hostile));
      expect(value).toBe(false);
      // CPU time; the pattern this replaced took about 30 s on the first of these.
      expect(ms).toBeLessThan(200);
    }
  });

  test('a recipient list with an invalid entry names the field and the entry', () => {
    expect(formatAddressList('John <john@example.com>, jane@example.com', 'to')).toBe(
      'John <john@example.com>,\r\n jane@example.com',
    );
    expect(() => formatAddressList('john@example.com, not-an-address', 'cc')).toThrow(
      'cc: "not-an-address" is not a valid email address',
    );
  });
});
