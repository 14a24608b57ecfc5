import { createServer } from 'node:net';

/**
 * A loopback port nobody listens on right now (or `wanted`, if it is free), for servers that
 * must know their URL before they listen. Rejects when `wanted` is taken on `host`.
 */
export function freePort(wanted = 0, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(wanted, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      probe.close(() => resolve(port));
    });
  });
}
