import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeedConfig, ensureInstance } from '../mcp/support.js';
import { type Stack, startStack } from '../support/index.js';
import { postStreamed } from '../support/streamed-post.js';

const SIXTY_FOUR_MB = 64 * 1024 * 1024;
/** RSS growth while `run` runs, after a collection when the process exposes one. */
async function rssGrowth(run: () => Promise<void>): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return peak - before;
}

describe('request bodies are limited as they stream in', () => {
  let stack: Stack;
  let instanceUrl: string;

  beforeAll(async () => {
    stack = await startStack({ listen: true });
    await createSeedConfig(stack);
    instanceUrl = (await ensureInstance(stack, 'reminder-manager', 'john-doe')).url;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a 64 MB chunked body to /oauth/token with an RFC 6749 413, without buffering it', async () => {
    let answer = { status: 0, body: '', sent: 0 };
    const growth = await rssGrowth(async () => {
      answer = await postStreamed(`${stack.url}/oauth/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        total: SIXTY_FOUR_MB,
      });
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request' });
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  }, 30_000);

  it('refuses a 64 MB chunked sign-in form with 413, without buffering it', async () => {
    let answer = { status: 0, body: '', sent: 0 };
    const growth = await rssGrowth(async () => {
      answer = await postStreamed(`${stack.url}/dashboard/sign-in`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.url },
        total: SIXTY_FOUR_MB,
      });
    });
    expect(answer.status).toBe(413);
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  }, 30_000);

  it('refuses a 64 MB chunked JSON body to /api/v1 with 413 payload_too_large, without buffering it', async () => {
    const token = await stack.token();
    let answer = { status: 0, body: '', sent: 0 };
    const growth = await rssGrowth(async () => {
      answer = await postStreamed(`${stack.url}/api/v1/connections`, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        total: SIXTY_FOUR_MB,
      });
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  }, 30_000);

  it('refuses a 64 MB chunked body to the MCP endpoint with a JSON-RPC 413, without buffering it', async () => {
    let answer = { status: 0, body: '', sent: 0 };
    const growth = await rssGrowth(async () => {
      answer = await postStreamed(instanceUrl, {
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        total: SIXTY_FOUR_MB,
      });
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  }, 30_000);

  it('refuses a declared Content-Length over the limit before any route reads it', async () => {
    const token = await stack.token();
    // Only the headers go out: the declared length alone is refused.
    const answer = await postStreamed(`${stack.url}/api/v1/connections`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      total: 0,
      contentLength: SIXTY_FOUR_MB,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('still reads ordinary bodies: a token, a JSON call and an MCP initialize', async () => {
    const created = await stack.api('POST', '/api/v1/connections', { name: 'SMALL_BODY', provider: 'gmail' });
    expect(created.status).toBe(201);
    const initialize = await fetch(instanceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    expect(initialize.status).toBe(200);
  });
});
