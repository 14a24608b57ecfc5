import { BlockList, isIP } from 'node:net';

/** Addresses no server-side fetch of a client's document may reach (SSRF). */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
// IPv6: only global unicast (2000::/3, RFC 4291) is reachable, so loopback, unspecified,
// IPv4-compatible and -translated forms, NAT64, ULA, link- and site-local, multicast and
// whatever is reserved there need no entry of their own; these are the parts of 2000::/3
// that are not public either.
for (const [network, prefix] of [
  // IETF protocol assignments, Teredo among them (2001::/32).
  ['2001::', 23],
  ['2001:db8::', 32],
  // 6to4: an IPv4 address inside.
  ['2002::', 16],
  // Documentation (RFC 9637).
  ['3fff::', 20],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const host = bare(address);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  // The same in hex, as URLs write it (https://[::ffff:127.0.0.1]/ is https://[::ffff:7f00:1]/).
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (hex?.[1] && hex[2]) {
    const [high, low] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
    return { address: [high >> 8, high & 255, low >> 8, low & 255].join('.'), family: 'ipv4' };
  }
  const kind = isIP(host);
  if (kind === 4) return { address: host, family: 'ipv4' };
  if (kind === 6) return { address: host, family: 'ipv6' };
  return undefined;
}

/** A public unicast address: not private, loopback, link-local, shared, reserved or multicast. */
export function isPublicAddress(address: string): boolean {
  const ip = unmapped(address);
  if (ip === undefined || FORBIDDEN.check(ip.address, ip.family)) return false;
  return ip.family === 'ipv4' || GLOBAL_UNICAST.check(ip.address, 'ipv6');
}

export function isLoopbackIp(host: string): boolean {
  const ip = unmapped(host);
  if (!ip) return false;
  return ip.family === 'ipv4' ? ip.address.startsWith('127.') : ip.address === '::1';
}

export function isLoopbackHost(host: string): boolean {
  return isLoopbackIp(host) || bare(host) === 'localhost';
}
