import { mkdtempSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, connect as connectHttp2, constants } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Listener, listen } from '../../src/listener/listen.js';
import { ensureSelfSignedCertificate } from '../../src/listener/self-signed.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { frame } from '../support/h2-frames.js';
import { TEST_ENCRYPTION_KEY } from '../support/index.js';

/** The write-stall time these servers run with (30 s in production). */
const STALL_MS = 1_000;
/**
 * More than the kernel buffers on loopback (about 4 MB each way), so a client that does not
 * read leaves the server with bytes waiting. One write, as the API reference's script is.
 */
const BIG = new Uint8Array(32 * 1024 * 1024);
/** How long the slow answers below wait: a few stall times. */
const WAIT_MS = 3 * STALL_MS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request for `path` on a fresh socket that then reads nothing until resumed. */
function askAndStopReading(port: number, path: string, requests = 1): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(requests));
      resolve(socket);
    });
    socket.pause();
    socket.on('error', () => undefined);
  });
}

/**
 * Reads `socket` until it closes, or until it has more than `enough` bytes (the whole answer
 * came: the connection was not cut); resolves with the bytes read.
 */
function readUntilClosed(socket: Socket, enough: number): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > enough) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.resume();
  });
}

/**
 * Reads `socket` at a steady pace until the whole of BIG has come, or it closes. Far slower than
 * loopback, so the server's bytes wait on the reader the whole way; but the kernel hands the
 * server its freed buffer in steps of about 1.4 MB, so a reader much slower than this would leave
 * the server without progress for longer than these tests' stall time.
 */
function readSteadily(socket: Socket): Promise<{ received: number; ms: number }> {
  const bytesPerSecond = 8 * 1024 * 1024;
  const started = Date.now();
  let received = 0;
  return new Promise((resolve) => {
    const done = () => {
      socket.destroy();
      resolve({ received, ms: Date.now() - started });
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > BIG.length) return done();
      const due = started + (received / bytesPerSecond) * 1000 - Date.now();
      if (due > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), due);
      }
    });
    socket.on('close', done);
    socket.resume();
  });
}

/** `promise`'s value, or 'still waiting' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([promise, sleep(ms).then(() => 'still waiting' as const)]);
}

/**
 * The frames of an HTTP/2 client that opens its flow-control windows as far as they go and asks
 * for `path`: the preface, SETTINGS (INITIAL_WINDOW_SIZE 2^31-1), a connection WINDOW_UPDATE to
 * the same size, and HEADERS (GET, END_STREAM) on stream 1, its header block in HPACK without
 * Huffman coding.
 */
function h2Request(path: string): Buffer[] {
  const largestWindow = 2 ** 31 - 1;
  const settings = Buffer.alloc(6);
  settings.writeUInt16BE(0x4, 0);
  settings.writeUInt32BE(largestWindow, 2);
  const increment = Buffer.alloc(4);
  increment.writeUInt32BE(largestWindow - 65_535, 0);
  const literal = (index: number, value: string) =>
    Buffer.concat([Buffer.from([0x40 | index, value.length]), Buffer.from(value, 'latin1')]);
  // 0x82 :method GET, 0x86 :scheme http (static table entries); :authority (1) and :path (4) as literals.
  const block = Buffer.concat([Buffer.from([0x82, 0x86]), literal(1, '127.0.0.1'), literal(4, path)]);
  return [
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    frame(0x4, 0, 0, settings),
    frame(0x8, 0, 0, increment),
    frame(0x1, 0x4 | 0x1, 1, block),
  ];
}

/** The answers the listener under test gives: a large one, a late one and an event stream. */
async function answer(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === '/big') return new Response(BIG, { headers: { 'content-type': 'application/octet-stream' } });
  if (path === '/after-a-wait') {
    // A tool call waiting on its provider: nothing is written before the answer.
    await sleep(WAIT_MS);
    return new Response('done');
  }
  if (path === '/events') {
    // An event stream quiet between events, with nothing waiting to be read.
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: first\n\n'));
        setTimeout(() => {
          controller.enqueue(encoder.encode('data: second\n\n'));
          controller.close();
        }, WAIT_MS);
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  }
  return new Response('not found', { status: 404 });
}

const HTTP = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
  writeStallTimeoutMs: STALL_MS,
};

describe('a client that stops reading its answer cannot hold its connection', () => {
  let listener: Listener;
  let url: string;

  beforeAll(async () => {
    listener = await listen({
      port: 0,
      host: '127.0.0.1',
      http: HTTP,
      fetch: answer,
      logger: createLogger('silent'),
    });
    url = `http://127.0.0.1:${listener.port}`;
  });
  afterAll(async () => {
    await listener?.close();
  });

  it('closes an HTTP/1.1 connection whose client asked for a large answer and reads none of it', async () => {
    const socket = await askAndStopReading(listener.port, '/big');
    await sleep(3 * STALL_MS);
    // What reaches the client now is what the kernel held when the server let go, not the answer.
    const received = await readUntilClosed(socket, BIG.length);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(BIG.length);
  }, 20_000);

  it('lets a client read a large answer slowly but steadily, the server waiting on it throughout', async () => {
    const socket = await askAndStopReading(listener.port, '/big');
    const { received, ms } = await readSteadily(socket);
    expect(received).toBeGreaterThan(BIG.length);
    // Longer than the stall time: a guard that saw progress only when a write finished would cut it.
    expect(ms).toBeGreaterThan(2 * STALL_MS);
  }, 20_000);

  it('resets an HTTP/2 stream whose client never opens its flow-control window', async () => {
    const session = connectHttp2(url, { settings: { initialWindowSize: 0 } });
    session.on('error', () => undefined);
    try {
      const stream = session.request({ ':path': '/big' });
      stream.on('error', () => undefined);
      const status = new Promise((resolve) => stream.once('response', (headers) => resolve(headers[':status'])));
      const closed = new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode)));
      expect(await status).toBe(200);
      expect(await within(closed, 3 * STALL_MS + 2_000)).toBe(constants.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
    }
  }, 20_000);

  it('closes an HTTP/2 connection whose client opened every window and reads nothing', async () => {
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect(listener.port, '127.0.0.1', () => resolve(s));
    });
    socket.on('error', () => undefined);
    socket.pause();
    socket.write(Buffer.concat(h2Request('/big')));
    await sleep(3 * STALL_MS);
    const received = await readUntilClosed(socket, BIG.length);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(BIG.length);
  }, 20_000);

  it('keeps connections whose answer waits on a slow upstream before its first byte, on both protocols', async () => {
    let session: ClientHttp2Session | undefined;
    try {
      const overHttp1 = fetch(`${url}/after-a-wait`).then((r) => r.text());
      session = connectHttp2(url);
      const stream = session.request({ ':path': '/after-a-wait' });
      const overHttp2 = new Promise<string>((resolve, reject) => {
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          text += chunk;
        });
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(await Promise.all([overHttp1, overHttp2])).toEqual(['done', 'done']);
    } finally {
      session?.close();
    }
  }, 20_000);

  it('keeps an event stream that is quiet with nothing waiting', async () => {
    const response = await fetch(`${url}/events`);
    expect(await response.text()).toBe('data: first\n\ndata: second\n\n');
  }, 20_000);
});

describe('over TLS, the same', () => {
  let listener: Listener;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-stalled-tls-'));
    const { cert, key } = await ensureSelfSignedCertificate(dataDir, Date.now());
    listener = await listen({
      port: 0,
      host: '127.0.0.1',
      http: HTTP,
      tls: { cert, key },
      fetch: answer,
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await listener?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request for /big over TLS (HTTP/1.1) on a fresh connection that then reads nothing until resumed. */
  const askOverTlsAndStopReading = () =>
    new Promise<TLSSocket>((resolve) => {
      const options = {
        port: listener.port,
        host: '127.0.0.1',
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      };
      const socket = connectTls(options, () => {
        socket.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        resolve(socket);
      });
      socket.pause();
      socket.on('error', () => undefined);
    });

  it('closes an HTTPS connection whose client asked for a large answer and reads none of it', async () => {
    const socket = await askOverTlsAndStopReading();
    await sleep(3 * STALL_MS);
    const received = await readUntilClosed(socket, BIG.length);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(BIG.length);
  }, 20_000);

  it('lets an HTTPS client read a large answer slowly but steadily', async () => {
    const { received, ms } = await readSteadily(await askOverTlsAndStopReading());
    expect(received).toBeGreaterThan(BIG.length);
    expect(ms).toBeGreaterThan(2 * STALL_MS);
  }, 20_000);
});

describe('clients that ask for the API reference script and never read it do not lock others out', () => {
  let running: RunningServer;
  let dataDir: string;
  let port: number;
  const CAP = 4;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-stalled-'));
    running = await startServer({
      PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      SWITCHBOARD_LOG_LEVEL: 'silent',
      SWITCHBOARD_MAX_CONNECTIONS: String(CAP),
      SWITCHBOARD_WRITE_STALL_TIMEOUT_MS: String(STALL_MS),
    });
    port = Number(new URL(running.url).port);
  }, 30_000);
  afterAll(async () => {
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a new client once the stalled ones are cut off, though they took every connection', async () => {
    // Pipelined, so each connection has more than the kernel buffers waiting (1.7 MB a copy).
    const stalled = await Promise.all(
      Array.from({ length: CAP }, () => askAndStopReading(port, '/docs/swagger-ui/swagger-ui-bundle.js', 16)),
    );
    try {
      const started = Date.now();
      let status = 0;
      while (status !== 200 && Date.now() - started < 10_000) {
        status = await fetch(`${running.url}/healthz`, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.status)
          .catch(() => 0);
        if (status !== 200) await sleep(100);
      }
      expect(status).toBe(200);
      expect(Date.now() - started).toBeLessThan(STALL_MS + 5_000);
    } finally {
      for (const socket of stalled) socket.destroy();
    }
  }, 30_000);
});
