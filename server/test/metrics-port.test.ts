import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/main.js';
import { freePort } from './support/loopback.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** The built server (npm test builds first), as a program embedding it imports it. */
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return { port, server };
}

describe('SWITCHBOARD_METRICS_PORT: /metrics alone on its own port', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const env = async (metricsPort: number) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-metrics-port-'));
    dirs.push(dataDir);
    const port = await freePort();
    return {
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SANDBOX_PORT: 'off',
      SWITCHBOARD_LOG_LEVEL: 'silent',
      SWITCHBOARD_METRICS_PORT: String(metricsPort),
      // A Redis client is among what a start opens: the failed start must close it too.
      REDIS_URL,
      SWITCHBOARD_REDIS_KEY_PREFIX: `sb-test-metrics-${process.pid}-${port}:`,
    };
  };

  it('serves /metrics there without a token, and nothing else', async () => {
    const metricsPort = await freePort();
    const vars = await env(metricsPort);
    const running = await startServer(vars);
    try {
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('switchboard_tool_calls_total');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/connections`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await running.stop();
    }
  });

  it('a taken metrics port fails the start, and the process that tried exits by itself: nothing left open', async () => {
    const blocker = await holdPort();
    try {
      const vars = await env(blocker.port);
      // A program that embeds the server and does not call process.exit: it ends only when
      // nothing the failed start opened (sockets, Redis client, timers) is left holding it.
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { startServer } from ${JSON.stringify(pathToFileURL(MAIN).href)};
           await startServer(process.env).then(() => console.log('started'), (e) => console.log('failed', e.code));`,
        ],
        { env: { PATH: process.env.PATH ?? '', ...vars }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = await Promise.race([
        new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
        new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
      ]);
      if (exited === 'still running') child.kill('SIGKILL');
      expect(output.trim()).toBe('failed EADDRINUSE');
      expect(exited).toBe(0);
    } finally {
      blocker.server.close();
    }
  });
});
