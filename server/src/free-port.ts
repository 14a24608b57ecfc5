import { createServer } from 'node:net';

/**
 * A loopback port nobody listens on right now (or `wanted`, if it is free), for servers that
 * must know their URL before they listen. Rejects when `wanted` is taken.
 */
export function freePort(wanted = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(wanted, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      probe.close(() => resolve(port));
    });
  });
}
