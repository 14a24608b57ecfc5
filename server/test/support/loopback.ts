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

/**
 * A plain node:http server listening on 127.0.0.1 at a free port, for tests that write the
 * answer byte by byte (a declared length it never sends, a body without end).
 */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
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
