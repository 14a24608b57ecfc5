import http2 from 'node:http2';
import net from 'node:net';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listener } from '../../src/listener/listen.js';
import { frame, literalHeader } from '../support/h2-frames.js';
import { listenOnLoopback } from '../support/one-port.js';
import { type Stack, startStack } from '../support/stack.js';

const HEADERS = 1;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PREFACE_BYTES = 24;

/**
 * A loopback proxy to `port` that replaces the header block of stream 1 with `block`, so a
 * node:http2 client (which refuses a repeated authorization field) can send one, and still
 * decode the answer itself. Literal fields without indexing leave the server's HPACK table
 * as the client's encoder expects it for that one stream.
 */
async function headerSwappingProxy(port: number, block: Buffer) {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    let pending = Buffer.alloc(0);
    let prefaceLeft = PREFACE_BYTES;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (prefaceLeft > 0) {
        const take = Math.min(prefaceLeft, pending.length);
        upstream.write(pending.subarray(0, take));
        pending = pending.subarray(take);
        prefaceLeft -= take;
      }
      while (prefaceLeft === 0 && pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const size = 9 + pending.readUIntBE(0, 3);
        const type = pending.readUInt8(3);
        const flags = pending.readUInt8(4);
        const stream = pending.readUInt32BE(5) & 0x7fffffff;
        if (type === HEADERS && stream === 1) {
          upstream.write(frame(HEADERS, (flags & END_STREAM) | END_HEADERS, 1, block));
        } else {
          upstream.write(pending.subarray(0, size));
        }
        pending = pending.subarray(size);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${proxyPort}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * One gRPC call (an empty request message) whose request carries every value of
 * `authorizations` as its own authorization field; answers its grpc-status and grpc-message.
 */
async function callWithAuthorizations(
  port: number,
  path: string,
  authorizations: string[],
  extra: Record<string, string> = {},
): Promise<{ status: number; message: string }> {
  const fields = {
    ':method': 'POST',
    ':scheme': 'http',
    ':path': path,
    ':authority': `127.0.0.1:${port}`,
    'content-type': 'application/grpc+proto',
    te: 'trailers',
    ...extra,
  };
  const block = Buffer.concat([
    ...Object.entries(fields).map(([name, value]) => literalHeader(name, value)),
    ...authorizations.map((value) => literalHeader('authorization', value)),
  ]);
  const proxy = await headerSwappingProxy(port, block);
  const session = http2.connect(proxy.url);
  try {
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc+proto' });
    request.end(Buffer.from([0, 0, 0, 0, 0]));
    const seen: Record<string, string> = {};
    await new Promise<void>((resolve, reject) => {
      const keep = (headers: http2.IncomingHttpHeaders) => {
        for (const [name, value] of Object.entries(headers)) seen[name] = String(value);
      };
      request.on('response', keep);
      request.on('trailers', keep);
      request.on('end', resolve);
      request.on('error', reject);
      request.resume();
    });
    return { status: Number(seen['grpc-status']), message: decodeURIComponent(seen['grpc-message'] ?? '') };
  } finally {
    session.close();
    await proxy.close();
  }
}

const LIST_TOOLS = '/scalekit.v1.tools.ToolService/ListTools';

describe('the authorization values of a gRPC call', () => {
  let stack: Stack;
  let listener: Listener;
  let token: string;

  beforeAll(async () => {
    stack = await startStack();
    listener = await listenOnLoopback(stack);
    token = await stack.token();
  });

  afterAll(async () => {
    await listener?.close();
    await stack?.close();
  });

  // `grpc-encoding: gzip` (with an uncompressed message) sends the call to connect-node rather than the direct path.
  describe.each([
    ['the direct unary path', {}],
    ['connect-node', { 'grpc-encoding': 'gzip' }],
  ])('on %s', (_path, extra: Record<string, string>) => {
    it('takes one value, and two as the Python SDK sends them (the same token, or a stale one and the current one)', async () => {
      for (const values of [
        [`Bearer ${token}`],
        [`Bearer ${token}`, `Bearer ${token}`],
        ['Bearer stale-token', `Bearer ${token}`],
      ]) {
        expect(await callWithAuthorizations(listener.port, LIST_TOOLS, values, extra)).toEqual({
          status: 0,
          message: '',
        });
      }
    });

    it('refuses more than two values UNAUTHENTICATED before checking any, even when one of them is valid', async () => {
      const refused = {
        status: Code.Unauthenticated,
        message: expect.stringMatching(/^send one authorization value, Bearer <access token> \(this call had \d+;/),
      };
      const forged = 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA';
      expect(
        await callWithAuthorizations(listener.port, LIST_TOOLS, [forged, forged, `Bearer ${token}`], extra),
      ).toEqual(refused);
      const flood = await callWithAuthorizations(listener.port, LIST_TOOLS, Array(90).fill(forged), extra);
      expect(flood).toEqual(refused);
      expect(flood.message).toContain('this call had 90;');
    });
  });
});
