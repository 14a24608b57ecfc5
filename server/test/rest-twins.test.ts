import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/index.js';

describe("the REST twins Scalekit's SDKs call", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.connectAccount('MY_GMAIL', 'john-doe');
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('serves the JWKS at /keys, the same keys as /.well-known/jwks.json, without a token', async () => {
    const keys = await stack.fetch(`${stack.url}/keys`);
    const wellKnown = await stack.fetch(`${stack.url}/.well-known/jwks.json`);
    expect(keys.status).toBe(200);
    const body = (await keys.json()) as { keys: { kid: string }[] };
    expect(body.keys.length).toBeGreaterThan(0);
    expect(body).toEqual(await wellKnown.json());
  });

  it('lists the tools available to an identifier at GET /api/v1/tools/available, paged', async () => {
    const all = await stack.api<{ tools: { id: string }[]; total_size: number; next_page_token: string }>(
      'GET',
      '/api/v1/tools/available?identifier=john-doe',
    );
    expect(all.status).toBe(200);
    expect(all.body.tools.length).toBeGreaterThan(0);
    expect(all.body.tools.every((tool) => tool.id.startsWith('gmail_'))).toBe(true);
    expect(all.body.total_size).toBe(all.body.tools.length);
    const first = await stack.api<{ tools: unknown[]; next_page_token: string }>(
      'GET',
      '/api/v1/tools/available?identifier=john-doe&page_size=1',
    );
    expect(first.body.tools).toHaveLength(1);
    expect(first.body.next_page_token).not.toBe('');
  });

  it('answers 404 for an identifier with no account, and 400 without one', async () => {
    expect((await stack.api('GET', '/api/v1/tools/available?identifier=nobody')).status).toBe(404);
    expect((await stack.api('GET', '/api/v1/tools/available')).status).toBe(400);
  });
});
