import type { Server } from 'node:http';

/** A server listening on a port of its own, as its starter hands it on. */
export interface PortListener {
  port: number;
  close(): Promise<void>;
}

/**
 * The port `server` listens on (the system's pick when `requestedPort` was 0; `requestedPort`
 * when the address cannot be read), and a close that resolves once the server has stopped.
 * `drop` says which open connections close ends at once: 'idle' lets answers under way finish,
 * 'all' cuts them too.
 */
export function portListener(server: Server, requestedPort: number, drop: 'idle' | 'all'): PortListener {
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : requestedPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (drop === 'all') server.closeAllConnections();
        else server.closeIdleConnections();
      }),
  };
}
