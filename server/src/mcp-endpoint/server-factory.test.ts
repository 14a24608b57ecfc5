import { InMemoryTransport, SdkError, SdkErrorCode } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { PerRequestServer } from './server-factory.js';

/** A server with one tools/call handler that runs until its request is aborted, and what aborted it. */
async function serverWithPendingCall() {
  const server = new PerRequestServer({ name: 'test', version: '0' }, { capabilities: { tools: {} } });
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const aborted: { reason?: unknown } = {};
  server.setRequestHandler(
    'tools/call',
    (_request, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.mcpReq.signal.addEventListener('abort', () => {
          aborted.reason = ctx.mcpReq.signal.reason;
          reject(aborted.reason);
        });
        started();
      }),
  );
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.start();
  await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } });
  await running;
  return { server, aborted };
}

describe('the per-request MCP server', () => {
  it('aborts a call still running at close with the SDK’s connection-closed error, built without a stack', async () => {
    const before = Error.stackTraceLimit;
    const { server, aborted } = await serverWithPendingCall();
    await server.close();
    expect(aborted.reason).toBeInstanceOf(SdkError);
    expect((aborted.reason as SdkError).code).toBe(SdkErrorCode.ConnectionClosed);
    expect(String((aborted.reason as Error).stack)).not.toContain('\n    at ');
    expect(Error.stackTraceLimit).toBe(before);
    // Errors made after the close have their stacks again.
    expect(String(new Error('after').stack)).toContain('\n    at ');
  });

  it('restores the stack trace limit when a close callback throws', async () => {
    const before = Error.stackTraceLimit;
    const { server } = await serverWithPendingCall();
    server.onclose = () => {
      throw new Error('close callback failed');
    };
    await expect(server.close()).rejects.toThrow('close callback failed');
    expect(Error.stackTraceLimit).toBe(before);
  });
});
