import type { Context } from 'hono';
import type { Config } from '../config.js';

/** What @hono/node-server passes as `c.env`: the Node request, whose socket knows the peer. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The client's address, for per-address rate limits: the socket's peer, or, only when
 * SWITCHBOARD_TRUST_PROXY says a proxy stands in front, the last X-Forwarded-For entry (the
 * one our proxy appended; earlier entries are whatever the client sent). Without a socket
 * (in-process requests, other runtimes) every request shares the address "unknown".
 */
export function clientAddress(c: Context, config: Pick<Config, 'trustProxy'>): string {
  if (config.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  const env = c.env as NodeBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
