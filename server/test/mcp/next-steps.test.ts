import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { rawPost } from './support.js';

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

describe('MCP endpoint errors name the next step', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('a disallowed Origin is told about SWITCHBOARD_ALLOWED_ORIGINS, with the origin to add', async () => {
    const response = await rawPost(stack, `${stack.url}/mcp/i/anything`, listTools, {
      origin: 'http://inspector.example.com:6274',
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain('SWITCHBOARD_ALLOWED_ORIGINS=http://inspector.example.com:6274');
  });

  it('an Origin that is not a URL still gets the variable named', async () => {
    const response = await rawPost(stack, `${stack.url}/mcp/i/anything`, listTools, { origin: 'null' });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'SWITCHBOARD_ALLOWED_ORIGINS',
    );
  });

  it('POST /mcp (what MCP Inspector sends for a bare instance URL) says to use the instance URL followed by /mcp', async () => {
    const response = await rawPost(stack, `${stack.url}/mcp`, listTools);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { jsonrpc: string; error: { message: string } };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.message).toMatch(/instance URL/);
    expect(body.error.message).toMatch(/followed by \/mcp/);
  });
});
