import { describe, expect, it } from 'vitest';
import { addressPrefix } from './address-prefix.js';

describe('addressPrefix', () => {
  it('counts every address of one IPv6 /64 as that /64, however it is written', () => {
    for (const address of [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:a:b:c:d',
      '2001:db8:1:2:0:0:192.0.2.1',
      '2001:db8:1:2::1%eth0',
    ]) {
      expect(addressPrefix(address), address).toBe('2001:db8:1:2::/64');
    }
    expect(addressPrefix('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressPrefix('::1')).toBe('0:0:0:0::/64');
    expect(addressPrefix('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('counts an IPv4 address, mapped into IPv6 or not, as itself', () => {
    expect(addressPrefix('192.0.2.1')).toBe('192.0.2.1');
    expect(addressPrefix('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressPrefix('::ffff:c000:201')).toBe('192.0.2.1');
    // Not mapped: an IPv4 tail elsewhere is an IPv6 address like any other.
    expect(addressPrefix('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('keeps what is no address as it is', () => {
    for (const text of ['unknown', '', 'not:an::address::', '192.0.2.1:443', '[2001:db8::1]']) {
      expect(addressPrefix(text)).toBe(text);
    }
  });
});
