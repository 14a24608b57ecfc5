import { createServer } from 'node:http';
import { type PortListener, portListener } from '../port-listener.js';
import type { Metrics } from './metrics.js';

/**
 * /metrics alone on its own port (SWITCHBOARD_METRICS_PORT), for scrapers on a private
 * network: no token, and nothing else is served there. Resolves once listening.
 */
export async function serveMetrics(metrics: Metrics, options: { port: number; host: string }): Promise<PortListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.scrape().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return portListener(server, options.port, 'all');
}
