import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Config } from '../config.js';
import { type PortListener, portListener } from '../port-listener.js';
import { httpServerOptions, limitConnections } from './http1-options.js';

function listenOnce(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  host: string,
  http: Config['http'],
) {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host, serverOptions: httpServerOptions(http) }, () => {
      server.off('error', reject);
      resolve(server as Server);
    }) as Server;
    server.once('error', reject);
  });
}

/**
 * The sandbox on its own port, at the host root: Google's client libraries (googleapis-common
 * 9, behind @googleapis/gmail 22 and @googleapis/calendar 20) resolve API paths against the
 * root of `rootUrl`, so a sandbox under `/sandbox` is out of their reach. Plain HTTP/1.1 with
 * the main server's limits. A default port that is taken gives way to one the system picks.
 */
export async function serveSandbox(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { port: number; portIsDefault: boolean; host: string; http: Config['http'] },
): Promise<PortListener> {
  let server: Server;
  try {
    server = await listenOnce(fetch, options.port, options.host, options.http);
  } catch (error) {
    if (!options.portIsDefault || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    server = await listenOnce(fetch, 0, options.host, options.http);
  }
  limitConnections(server, options.http);
  return portListener(server, options.port, 'idle');
}
