import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/main.js';
import { TEST_ENCRYPTION_KEY } from '../support/index.js';

/** Opens a socket that sends a request line and one header, then trickles (or stalls). */
function slowClient(port: number, kind: 'headers' | 'body'): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        kind === 'headers'
          ? 'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n'
          : 'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100000\r\n\r\ngrant',
      );
      resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.resume(); // read (and drop) the server's 408, so its FIN is seen
    // A socket refused at the connection cap resolves too: it is closed by the server.
    socket.on('close', () => resolve(socket));
  });
}

describe('slow clients cannot starve the server', () => {
  let running: RunningServer;
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-slow-'));
    running = await startServer({
      PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      SWITCHBOARD_LOG_LEVEL: 'silent',
      SWITCHBOARD_REQUEST_TIMEOUT_MS: '1500',
      SWITCHBOARD_HEADERS_TIMEOUT_MS: '1000',
      SWITCHBOARD_MAX_CONNECTIONS: '600',
    });
    port = Number(new URL(running.url).port);
  }, 30_000);
  afterAll(async () => {
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies the configured limits to the listening server', () => {
    expect(running.server.requestTimeout).toBe(1500);
    expect(running.server.headersTimeout).toBe(1000);
    expect(running.server.maxConnections).toBe(600);
    expect(running.server.maxHeadersCount).toBe(100);
  });

  it('answers a normal request promptly while 1,000 slow clients hold sockets, and drops the slow ones', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => slowClient(port, i % 2 === 0 ? 'headers' : 'body')),
    );
    try {
      const started = Date.now();
      let status = 0;
      // Connections past the cap are refused until the timeouts free the slow ones' places.
      while (status !== 200 && Date.now() - started < 15_000) {
        status = await fetch(`${running.url}/healthz`, { signal: AbortSignal.timeout(5_000) })
          .then((r) => r.status)
          .catch(() => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      // Generous: the slow clients are cut off after about 1.5 s, not Node's 300 s.
      expect(Date.now() - started).toBeLessThan(10_000);
      const deadline = Date.now() + 10_000;
      while (sockets.some((s) => !s.destroyed && !s.readableEnded) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(sockets.filter((s) => !s.destroyed && !s.readableEnded)).toHaveLength(0);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 40_000);
});
