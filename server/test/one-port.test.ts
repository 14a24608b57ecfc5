import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, connect as connectHttp2, type OutgoingHttpHeaders } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/main.js';
import { TEST_ENCRYPTION_KEY } from './support/index.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on an HTTP/2 session: `:status`, headers and body as text. */
function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let answerHeaders: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      answerHeaders = h;
    });
    // gRPC's status comes in trailers (or in the headers of a trailers-only answer).
    stream.on('trailers', (t) => {
      answerHeaders = { ...answerHeaders, ...t };
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, headers: answerHeaders, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** Writes raw bytes on a fresh socket and collects everything until the server closes it. */
function rawExchange(
  open: () => Socket,
  bytes: string | Buffer | undefined,
  options: { end?: boolean } = {},
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = open();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started }));
    socket.once(socket.connecting ? 'connect' : 'secureConnect', () => {
      if (bytes !== undefined) socket.write(bytes);
      if (options.end) socket.end();
    });
  });
}

/** A keep-alive HTTP/1.1 GET on a raw socket: resolves with the status line of the answer. */
function rawHttp1Get(open: () => Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = open();
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        resolve(text.slice(0, text.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

const SMALL_BODY_LIMIT = 4096;

/** A management access token of the admin client the start created. */
async function tokenOf(running: RunningServer, origin: string, dispatcher: Agent): Promise<string> {
  const client = running.adminClient;
  if (!client) throw new Error('the start created no admin client');
  const answer = await undiciFetch(`${origin}/oauth/token`, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    }).toString(),
  });
  return ((await answer.json()) as { access_token: string }).access_token;
}

function envFor(dataDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    PORT: '0',
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    SWITCHBOARD_LOG_LEVEL: 'silent',
    SWITCHBOARD_HEADERS_TIMEOUT_MS: '800',
    SWITCHBOARD_REQUEST_TIMEOUT_MS: '3000',
    SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS: '1000',
    SWITCHBOARD_MAX_BODY_BYTES: String(SMALL_BODY_LIMIT),
    ...extra,
  };
}

for (const mode of ['cleartext', 'tls'] as const) {
  describe(`one port serves HTTP/1.1, HTTP/2 and browsers at once (${mode})`, () => {
    let running: RunningServer;
    let dataDir: string;
    let port: number;
    let ca: string | undefined;
    let origin: string;
    let dispatcher: Agent;
    const openSocket = (alpn?: string): Socket =>
      mode === 'tls'
        ? connectTls({ port, host: '127.0.0.1', ca, servername: 'localhost', ALPNProtocols: alpn ? [alpn] : undefined })
        : connectTcp(port, '127.0.0.1');
    const openH2 = () => connectHttp2(origin, mode === 'tls' ? { ca, servername: 'localhost' } : {});

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `switchboard-one-port-${mode}-`));
      running = await startServer(envFor(dataDir, mode === 'tls' ? { SWITCHBOARD_TLS_SELF_SIGNED: 'true' } : {}));
      port = Number(new URL(running.url).port);
      origin = `${mode === 'tls' ? 'https' : 'http'}://localhost:${port}`;
      if (mode === 'tls') ca = readFileSync(running.tls?.certFile ?? '', 'utf8');
      dispatcher = new Agent({ connect: { ca } });
    }, 30_000);
    afterAll(async () => {
      await dispatcher?.close();
      await running?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const alive = async () => {
      const answer = await undiciFetch(`${origin}/healthz`, { dispatcher });
      expect(answer.status).toBe(200);
    };

    it('answers a raw HTTP/1.1 client, an HTTP/2 client and a browser on the same port at the same time', async () => {
      const session = openH2();
      try {
        const [h1, h2, page] = await Promise.all([
          rawHttp1Get(() => openSocket('http/1.1'), '/healthz'),
          h2Request(session, { ':method': 'GET', ':path': '/healthz' }),
          undiciFetch(`${origin}/dashboard/sign-in`, { dispatcher, headers: { accept: 'text/html' } }),
        ]);
        expect(h1).toBe('HTTP/1.1 200 OK');
        expect(h2.status).toBe(200);
        expect(JSON.parse(h2.body)).toEqual({ status: 'ok' });
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toContain('text/html');
        expect(await page.text()).toContain('<form');
        // Many requests on one HTTP/2 session, interleaved.
        const many = await Promise.all(
          Array.from({ length: 20 }, () => h2Request(session, { ':method': 'GET', ':path': '/readyz' })),
        );
        expect(many.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      } finally {
        session.close();
      }
    });

    it('refuses a body over the limit on both protocols, and stays up', async () => {
      const big = 'x'.repeat(SMALL_BODY_LIMIT + 1);
      const session = openH2();
      try {
        const h2 = await h2Request(
          session,
          {
            ':method': 'POST',
            ':path': '/api/v1/connections',
            'content-type': 'application/json',
            'content-length': String(big.length),
          },
          big,
        );
        expect(h2.status).toBe(413);
        expect(JSON.parse(h2.body).error.code).toBe('payload_too_large');
        // No declared length: the body reader counts what arrives (the token endpoint reads at most 16 KB).
        const streamed = await h2Request(
          session,
          { ':method': 'POST', ':path': '/oauth/token', 'content-type': 'application/x-www-form-urlencoded' },
          'x'.repeat(17 * 1024),
        );
        expect(streamed.status).toBe(413);
        expect(JSON.parse(streamed.body).error).toBe('invalid_request');
      } finally {
        session.close();
      }
      const h1 = await undiciFetch(`${origin}/api/v1/connections`, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      });
      expect(h1.status).toBe(413);
      await alive();
    });

    it('answers bytes that are no HTTP at all with a 400, and stays up', async () => {
      const garbage = await rawExchange(() => openSocket('http/1.1'), '\x00\x01\x02 not http\r\n\r\n');
      expect(garbage.text).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      if (mode === 'cleartext') {
        // Almost the HTTP/2 preface: it is not one, so the HTTP/1.1 server reads it, and refuses it.
        const almost = await rawExchange(() => openSocket(), 'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n');
        expect(almost.text).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      }
      // The real preface followed by a frame that is not SETTINGS: a protocol error (GOAWAY), then close.
      const badFrame = await rawExchange(
        () => openSocket('h2'),
        Buffer.concat([
          Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
          Buffer.from([0, 0, 4, 0xff, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
        ]),
      );
      expect(badFrame.ms).toBeLessThan(5_000);
      await alive();
    });

    it('closes a connection that says nothing, or too little, within the headers timeout, and stays up', async () => {
      const [silent, halfClosed, prefaceOnly] = await Promise.all([
        rawExchange(() => openSocket('http/1.1'), undefined),
        rawExchange(() => openSocket('http/1.1'), undefined, { end: true }),
        rawExchange(() => openSocket('h2'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      ]);
      // 800 ms headers timeout; generous bounds for a loaded machine.
      expect(silent.ms).toBeLessThan(5_000);
      expect(halfClosed.ms).toBeLessThan(5_000);
      expect(prefaceOnly.ms).toBeLessThan(5_000);
      await alive();
    });

    /** A gRPC frame: compressed flag, 4-byte length, message. */
    const grpcFrame = (message: Buffer, declaredLength = message.length) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(declaredLength, 1);
      return Buffer.concat([head, message]);
    };
    const grpcHeaders = (method: string, token?: string): OutgoingHttpHeaders => ({
      ':method': 'POST',
      ':path': `/scalekit.v1.connections.ConnectionService/${method}`,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });

    it('answers gRPC on HTTP/2 and Hono on HTTP/2 on the same session', async () => {
      const session = openH2();
      try {
        const [unauthenticated, rest] = await Promise.all([
          h2Request(session, grpcHeaders('ListAppConnections'), grpcFrame(Buffer.alloc(0))),
          h2Request(session, { ':method': 'GET', ':path': '/healthz' }),
        ]);
        expect(unauthenticated.status).toBe(200);
        expect(unauthenticated.headers['grpc-status']).toBe('16');
        expect(rest.status).toBe(200);
        const token = await tokenOf(running, origin, dispatcher);
        const listed = await h2Request(session, grpcHeaders('ListAppConnections', token), grpcFrame(Buffer.alloc(0)));
        expect(listed.headers['grpc-status']).toBe('0');
      } finally {
        session.close();
      }
    });

    it('refuses a gRPC message over the limit with RESOURCE_EXHAUSTED, and stays up', async () => {
      const session = openH2();
      try {
        const token = await tokenOf(running, origin, dispatcher);
        const big = Buffer.alloc(SMALL_BODY_LIMIT + 100, 0x41);
        const answer = await h2Request(session, grpcHeaders('ListAppConnections', token), grpcFrame(big));
        expect(answer.headers['grpc-status']).toBe('8');
        expect(decodeURIComponent(String(answer.headers['grpc-message']))).toMatch(/larger than|readMaxBytes|max/i);
        // Only declared, never sent: refused on the length alone.
        const declared = await h2Request(
          session,
          grpcHeaders('ListAppConnections', token),
          grpcFrame(Buffer.alloc(8), 50_000_000),
        );
        expect(declared.headers['grpc-status']).toBe('8');
      } finally {
        session.close();
      }
      await alive();
    });

    if (mode === 'cleartext') {
      it('drops a TLS client on the cleartext port without answering it', async () => {
        const tlsOnCleartext = await rawExchange(
          () => connectTcp(port, '127.0.0.1'),
          Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]),
        );
        expect(tlsOnCleartext.text).toBe('');
        await alive();
      });
    } else {
      it('made a localhost certificate in the data directory, and reuses it on the next start', () => {
        expect(running.tls?.selfSigned).toBe(true);
        expect(running.tls?.certFile).toBe(join(dataDir, 'tls', 'localhost-cert.pem'));
        expect(running.url).toMatch(/^https:/);
        expect(running.config.publicUrl).toBe(`https://localhost:${running.config.port}`);
      });
    }

    it('stops gracefully: an HTTP/2 session gets GOAWAY, an HTTP/1.1 keep-alive socket is closed', async () => {
      const other = await startServer(envFor(dataDir, mode === 'tls' ? { SWITCHBOARD_TLS_SELF_SIGNED: 'true' } : {}));
      const otherPort = Number(new URL(other.url).port);
      const otherOrigin = `${mode === 'tls' ? 'https' : 'http'}://localhost:${otherPort}`;
      // The same certificate as the first start: it was reused, not made anew.
      if (mode === 'tls') expect(readFileSync(other.tls?.certFile ?? '', 'utf8')).toBe(ca);
      const session = connectHttp2(otherOrigin, mode === 'tls' ? { ca, servername: 'localhost' } : {});
      expect((await h2Request(session, { ':method': 'GET', ':path': '/healthz' })).status).toBe(200);
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      const started = Date.now();
      await other.stop();
      await goaway;
      await sessionClosed;
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
}
