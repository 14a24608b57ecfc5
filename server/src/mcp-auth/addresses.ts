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
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const host = bare(address);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  const kind = isIP(host);
  if (kind === 4) return { address: host, family: 'ipv4' };
  if (kind === 6) return { address: host, family: 'ipv6' };
  return undefined;
}

/** A public unicast address: not private, loopback, link-local, shared, reserved or multicast. */
export function isPublicAddress(address: string): boolean {
  const ip = unmapped(address);
  return ip !== undefined && !FORBIDDEN.check(ip.address, ip.family);
}

export function isLoopbackIp(host: string): boolean {
  const ip = unmapped(host);
  if (!ip) return false;
  return ip.family === 'ipv4' ? ip.address.startsWith('127.') : ip.address === '::1';
}

export function isLoopbackHost(host: string): boolean {
  return isLoopbackIp(host) || bare(host) === 'localhost';
}
