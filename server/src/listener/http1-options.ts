import type { Server, ServerOptions } from 'node:http';
import type { Config } from '../config.js';

/**
 * Node's defaults let a client take 300 s to send a request and open connections without
 * end: 1,000 slow POSTs made an instance refuse all traffic. Requests must arrive within
 * the configured timeouts (408 otherwise), and Node checks them often enough for a timeout
 * of a second to mean about a second (its default check runs every 30 s).
 */
export function httpServerOptions(http: Config['http']): ServerOptions {
  return {
    requestTimeout: http.requestTimeoutMs,
    headersTimeout: http.headersTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(http.headersTimeoutMs / 4))),
    // Node's own default, stated: no header section past 16 KB (a session token is about 1 KB).
    maxHeaderSize: 16 * 1024,
  };
}

/** The settings `createServer` does not take: the connection cap and the header count. */
export function limitConnections(server: Server, http: Config['http']): void {
  server.maxConnections = http.maxConnections;
  // Our clients send about 10 headers; Node's default allows 2,000.
  server.maxHeadersCount = 100;
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
}
