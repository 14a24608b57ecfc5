import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { findTrailerError } from '@connectrpc/connect/protocol-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../src/grpc/gen/scalekit/v1/errdetails/errdetails_pb.js';
import { ExecuteToolRequestSchema, ExecuteToolResponseSchema } from '../../src/grpc/gen/scalekit/v1/tools/tools_pb.js';
import type { Listener } from '../../src/listener/listen.js';
import { listenOnLoopback } from '../support/one-port.js';
import { type Stack, startStack } from '../support/stack.js';

const EXECUTE_TOOL = '/scalekit.v1.tools.ToolService/ExecuteTool';
const MAX_BODY_BYTES = 64 * 1024;

interface Answer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** grpc-status, from the trailers or (trailers-only) the headers. */
  status: number;
  message: string;
  /** The google.rpc.Status in grpc-status-details-bin, with its ErrorInfo. */
  details?: { code: number; message: string; errorCode?: string; executionId?: string; toolErrorCode?: string };
}

/** Reads the status as the Node SDK does (connect-es): grpc-status-details-bin first. */
function decodeStatus(final: http2.IncomingHttpHeaders): Answer['details'] {
  const headers = new Headers();
  for (const [name, value] of Object.entries(final)) if (!name.startsWith(':')) headers.set(name, String(value));
  const error = findTrailerError(headers);
  if (!error) return undefined;
  // The details were in grpc-status-details-bin when they hold an ErrorInfo.
  const info = error.findDetails(ErrorInfoSchema)[0];
  return {
    code: error.code,
    message: error.rawMessage,
    errorCode: info?.errorCode,
    executionId: info?.toolErrorInfo?.executionId,
    toolErrorCode: info?.toolErrorInfo?.toolErrorCode,
  };
}

function envelope(message: Uint8Array, flags = 0, declared = message.length): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(flags, 0);
  prefix.writeUInt32BE(declared, 1);
  return Buffer.concat([prefix, message]);
}

describe('the direct gRPC unary path on the HTTP/2 stream', () => {
  let stack: Stack;
  let listener: Listener;
  let session: http2.ClientHttp2Session;
  let token: string;
  /** What the next Gmail request does instead of reaching the sandbox. */
  let gmail: ((init: RequestInit | undefined) => Promise<Response>) | undefined;
  let gmailRequests = 0;

  const request = (overrides: { message?: Uint8Array; body?: Buffer; headers?: http2.OutgoingHttpHeaders } = {}) =>
    overrides.body ??
    envelope(
      overrides.message ??
        toBinary(
          ExecuteToolRequestSchema,
          create(ExecuteToolRequestSchema, {
            toolName: 'gmail_fetch_mails',
            connector: 'MY_GMAIL',
            identifier: 'john-doe',
            params: { max_results: 1 },
          }),
        ),
    );

  /** One call on the shared session: `send` writes the body (default: all of it, then end). */
  const call = (
    options: {
      body?: Buffer;
      headers?: http2.OutgoingHttpHeaders;
      send?: (stream: http2.ClientHttp2Stream) => void;
    } = {},
  ) =>
    new Promise<Answer>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': EXECUTE_TOOL,
        'content-type': 'application/grpc+proto',
        te: 'trailers',
        authorization: `Bearer ${token}`,
        ...options.headers,
      });
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        headers = h;
      });
      stream.on('trailers', (t) => {
        trailers = t;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => {
        const final = trailers['grpc-status'] !== undefined ? trailers : headers;
        resolve({
          headers,
          trailers,
          body: Buffer.concat(chunks),
          status: Number(final['grpc-status'] ?? -1),
          message: decodeURIComponent(String(final['grpc-message'] ?? '')),
          details: final['grpc-status-details-bin'] === undefined ? undefined : decodeStatus(final),
        });
      });
      if (options.send) options.send(stream);
      else stream.end(options.body ?? request());
    });

  /** Every error carries a google.rpc.Status equal to its trailers, with an ErrorInfo. */
  const expectError = (answer: Answer, code: Code, errorCode: string) => {
    expect(answer.headers[':status']).toBe(200);
    // Trailers-only: the status rides on the one HEADERS frame of the answer.
    expect(answer.headers['grpc-status']).toBe(String(code));
    expect(answer.trailers['grpc-status']).toBeUndefined();
    expect(answer.status).toBe(code);
    expect(answer.details?.code).toBe(code);
    expect(answer.details?.message).toBe(answer.message);
    expect(answer.details?.errorCode).toBe(errorCode);
  };

  beforeAll(async () => {
    stack = await startStack({
      env: { SWITCHBOARD_MAX_BODY_BYTES: String(MAX_BODY_BYTES), SWITCHBOARD_REQUEST_TIMEOUT_MS: '1500' },
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.pathname.includes('/gmail/v1/')) {
          gmailRequests++;
          if (gmail) return gmail(init);
        }
        return stack.fetch(input, init);
      },
    });
    listener = await listenOnLoopback(stack);
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.connectAccount('MY_GMAIL', 'john-doe');
    token = await stack.token();
    session = http2.connect(`http://127.0.0.1:${listener.port}`);
  });

  afterAll(async () => {
    session?.close();
    await listener?.close();
    await stack?.close();
  });

  it('answers ExecuteTool with headers once, one message, and grpc-status 0 in the trailers', async () => {
    const answer = await call();
    expect(answer.headers[':status']).toBe(200);
    expect(answer.headers['content-type']).toBe('application/grpc+proto');
    expect(answer.headers['grpc-status']).toBeUndefined();
    expect(answer.trailers['grpc-status']).toBe('0');
    expect(answer.body.readUInt8(0)).toBe(0);
    expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
    const reply = fromBinary(ExecuteToolResponseSchema, answer.body.subarray(5));
    expect(reply.executionId).toMatch(/^exec_/);
    expect(reply.data).toBeDefined();
  });

  it('reads a message split over several DATA frames, and takes a deadline past a timer’s range as none', async () => {
    const whole = request();
    const split = await call({
      headers: { 'grpc-timeout': '99999999H' },
      send: (stream) => {
        stream.write(whole.subarray(0, 3));
        setTimeout(() => {
          stream.write(whole.subarray(3, 20));
          setTimeout(() => stream.end(whole.subarray(20)), 20);
        }, 20);
      },
    });
    expect(split.status).toBe(0);
    expect(fromBinary(ExecuteToolResponseSchema, split.body.subarray(5)).executionId).toMatch(/^exec_/);
  });

  it('answers a call without a token, or with a bad one, UNAUTHENTICATED before running anything', async () => {
    const before = gmailRequests;
    expectError(await call({ headers: { authorization: undefined } }), Code.Unauthenticated, 'unauthenticated');
    expectError(
      await call({ headers: { authorization: 'Bearer not-a-token' } }),
      Code.Unauthenticated,
      'unauthenticated',
    );
    expect(gmailRequests).toBe(before);
  });

  it('raises a provider failure as TOOL_ERROR with the execution id and the tool error code', async () => {
    gmail = async () =>
      Response.json(
        { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } },
        { status: 404 },
      );
    try {
      const answer = await call();
      expectError(answer, Code.NotFound, 'TOOL_ERROR');
      expect(answer.details?.executionId).toMatch(/^exec_/);
      expect(answer.details?.toolErrorCode).toBe('provider_not_found');
    } finally {
      gmail = undefined;
    }
  });

  it('refuses truncated, empty, doubled and undecodable messages with connect-node’s codes', async () => {
    const message = toBinary(
      ExecuteToolRequestSchema,
      create(ExecuteToolRequestSchema, {
        toolName: 'gmail_fetch_mails',
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
      }),
    );
    const truncated = await call({ body: envelope(message, 0, message.length + 10) });
    expectError(truncated, Code.InvalidArgument, 'invalid_argument');
    expect(truncated.message).toContain('incomplete envelope');
    expectError(await call({ body: Buffer.from([0, 0]) }), Code.InvalidArgument, 'invalid_argument');
    expectError(await call({ body: Buffer.alloc(0) }), Code.Unimplemented, 'unimplemented');
    // No DATA frame at all: END_STREAM on the request's HEADERS.
    expectError(await call({ send: (stream) => stream.end() }), Code.Unimplemented, 'unimplemented');
    expectError(
      await call({ body: Buffer.concat([envelope(message), envelope(message)]) }),
      Code.Unimplemented,
      'unimplemented',
    );
    const garbage = await call({ body: envelope(Buffer.from([0xff, 0xff, 0xff, 0xff])) });
    expectError(garbage, Code.Internal, 'internal');
    expect(garbage.message).toContain('parse binary');
  });

  it('refuses a message over the size limit as soon as its length is read, and stays up', async () => {
    const declared = await call({
      send: (stream) => stream.write(envelope(Buffer.alloc(8), 0, 50_000_000)),
    });
    expectError(declared, Code.ResourceExhausted, 'resource_exhausted');
    expect(declared.message).toContain(`readMaxBytes ${MAX_BODY_BYTES}`);
    const sent = await call({ body: envelope(Buffer.alloc(MAX_BODY_BYTES + 1)) });
    expectError(sent, Code.ResourceExhausted, 'resource_exhausted');
    expect((await call()).status).toBe(0);
  });

  it('refuses a compressed flag without an encoding, and leaves gzip to connect-node, which decompresses it', async () => {
    const refused = await call({
      body: envelope(gzipSync(toBinary(ExecuteToolRequestSchema, create(ExecuteToolRequestSchema))), 1),
    });
    expectError(refused, Code.Internal, 'internal');
    expect(refused.message).toContain('compressed');

    const message = toBinary(
      ExecuteToolRequestSchema,
      create(ExecuteToolRequestSchema, {
        toolName: 'gmail_fetch_mails',
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
        params: { max_results: 1 },
      }),
    );
    const gzipped = await call({ body: envelope(gzipSync(message), 1), headers: { 'grpc-encoding': 'gzip' } });
    expect(gzipped.status).toBe(0);
    expect(fromBinary(ExecuteToolResponseSchema, gzipped.body.subarray(5)).executionId).toMatch(/^exec_/);
  });

  it('answers DEADLINE_EXCEEDED at the grpc-timeout and aborts the provider request', async () => {
    let providerSignal: AbortSignal | undefined;
    gmail = (init) =>
      new Promise<Response>((_resolve, reject) => {
        providerSignal = init?.signal ?? undefined;
        providerSignal?.addEventListener('abort', () => reject(providerSignal?.reason));
      });
    try {
      const started = performance.now();
      const answer = await call({ headers: { 'grpc-timeout': '150m' } });
      expectError(answer, Code.DeadlineExceeded, 'deadline_exceeded');
      expect(performance.now() - started).toBeLessThan(1_000);
      await expect.poll(() => providerSignal?.aborted).toBe(true);
    } finally {
      gmail = undefined;
    }
    expectError(await call({ headers: { 'grpc-timeout': 'soon' } }), Code.InvalidArgument, 'invalid_argument');
  });

  it('aborts the provider request when the client cancels mid-call, and serves the next call', async () => {
    let providerSignal: AbortSignal | undefined;
    let reached: () => void = () => undefined;
    const providerReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    gmail = (init) =>
      new Promise<Response>((_resolve, reject) => {
        providerSignal = init?.signal ?? undefined;
        providerSignal?.addEventListener('abort', () => reject(providerSignal?.reason));
        reached();
      });
    try {
      const cancelled = call({
        send: (stream) => {
          stream.end(request());
          void providerReached.then(() => stream.close(http2.constants.NGHTTP2_CANCEL));
        },
      });
      await providerReached;
      const answer = await cancelled;
      expect(answer.status).toBe(-1);
      await expect.poll(() => providerSignal?.aborted).toBe(true);
    } finally {
      gmail = undefined;
    }
    expect((await call()).status).toBe(0);
  });

  it('answers 408 when the request does not arrive whole within the request timeout', async () => {
    const answer = await call({ send: (stream) => stream.write(envelope(Buffer.alloc(8), 0, 100)) });
    expect(answer.headers[':status']).toBe(408);
  });

  it('leaves unknown methods to connect-node: UNIMPLEMENTED with an ErrorInfo', async () => {
    const answer = await call({ headers: { ':path': '/scalekit.v1.tools.ToolService/NoSuchMethod' } });
    expectError(answer, Code.Unimplemented, 'unimplemented');
  });
});
