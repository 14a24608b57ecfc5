import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LIST_TOOLS_BODY, LIST_TOOLS_HEADERS } from './load.js';
import { scrapeBare } from './overhead.js';
import { freePort, startChild } from './proc.js';

// The built server, as the bench runs it (`npm test` builds first).
const BARE_SERVER = fileURLToPath(new URL('../dist/bare-server.js', import.meta.url));

describe('the bare server’s /stats', () => {
  it('counts the scavenges its requests cause and their pause, beside its event-loop delay', async () => {
    const port = await freePort();
    // A 1 MB young generation, so a few hundred requests surely cause scavenges.
    const bare = await startChild(
      'bare-undici',
      ['--max-semi-space-size=1', BARE_SERVER],
      { PORT: String(port), SANDBOX_URL: 'http://127.0.0.1:9', ACCESS_TOKEN: 'unused', BARE_HTTP_CLIENT: 'undici' },
      'bare MCP server ready',
    );
    const origin = `http://127.0.0.1:${port}`;
    try {
      const before = await scrapeBare(origin);
      if (!before) throw new Error('no /stats');
      for (let i = 0; i < 400; i++) {
        const response = await fetch(`${origin}/mcp`, {
          method: 'POST',
          headers: LIST_TOOLS_HEADERS,
          body: LIST_TOOLS_BODY,
        });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
      const after = await scrapeBare(origin);
      if (!after) throw new Error('no /stats');
      expect(after.gc.minor).toBeGreaterThan(before.gc.minor);
      expect(after.gc.minorSeconds).toBeGreaterThan(before.gc.minorSeconds);
      expect(after.gc.seconds).toBeGreaterThanOrEqual(after.gc.minorSeconds);
      expect(after.gc.count).toBeGreaterThanOrEqual(after.gc.within10ms);
      expect(after.gc.within10ms).toBeGreaterThanOrEqual(after.gc.within1ms);
      for (const value of Object.values(after.loop)) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
      }
      expect(after.loop.max).toBeGreaterThanOrEqual(after.loop.p99);
    } finally {
      await bare.stop();
    }
  });
});
