import { isIPv6 } from 'node:net';

/**
 * What a client address is counted as: an IPv4 address as itself, an IPv6 address as its /64.
 * One IPv6 host is routinely given a whole /64 (RFC 6177; SLAAC privacy addresses rotate
 * inside it), so counting single IPv6 addresses would give one client 2^64 fresh windows. An
 * IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4 peer) counts as the
 * IPv4 address it carries, so the same client is one key whichever way it arrives. Anything
 * else (`unknown`, a proxy's odd entry) is kept as it is.
 */
export function addressPrefix(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is none. */
function ipv6Groups(address: string): number[] | undefined {
  const text = address.split('%')[0] ?? '';
  if (!isIPv6(text)) return undefined;
  // A dotted IPv4 tail (::ffff:192.0.2.1) is the last two groups.
  const withoutDots = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((n) => n.toString(16)).join(':'),
  );
  const [head = '', tail] = withoutDots.split('::');
  const parse = (part: string) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  return [...first, ...Array<number>(8 - first.length - last.length).fill(0), ...last];
}
