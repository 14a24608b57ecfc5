import type { Context } from 'hono';
import type { Config } from '../config.js';

/** What @hono/node-server passes as `c.env`: the Node request, whose socket knows the peer. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The client's address, for per-address rate limits: the socket's peer, or, only when
 * SWITCHBOARD_TRUST_PROXY says N proxies stand in front, the Nth X-Forwarded-For entry from
 * the end: each of our proxies appended the address it saw, so that one is what the outermost
 * saw, and entries before it are whatever the client sent. (With one proxy too many trusted,
 * the client would pick its own address; with one too few, every client behind the outer
 * proxy would share that proxy's.) A request through fewer proxies gets the first entry.
 * Without a socket (in-process requests, other runtimes) every request shares "unknown".
 */
export function clientAddress(c: Context, config: Pick<Config, 'trustedProxies'>): string {
  if (config.trustedProxies > 0) {
    const entries = c.req.header('x-forwarded-for')?.split(',');
    const forwarded = entries?.[Math.max(0, entries.length - config.trustedProxies)]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  const env = c.env as NodeBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
