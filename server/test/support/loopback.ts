import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export { freePort } from '../../src/free-port.js';

/** A web-standard request handler: an app's `fetch`, a stub. */
export type WebHandler = (request: Request) => Response | Promise<Response>;

/** A handler listening on 127.0.0.1 at a free port, for tests where the socket is the point. */
export interface LoopbackServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:53211`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export function serveOnLoopback(handler: WebHandler): Promise<LoopbackServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((error?: Error) => (error ? fail(error) : done()));
          }),
      });
    }) as Server;
  });
}
