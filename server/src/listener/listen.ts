import { createServer as createHttp1Server, type Server } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { routeByFirstBytes } from './first-bytes.js';
import { httpServerOptions, limitConnections } from './http1-options.js';
import { type Http2Handler, Http2Limits } from './http2-limits.js';
import { WriteStallGuard } from './write-stall.js';

export interface ListenOptions {
  port: number;
  host: string;
  http: Config['http'];
  /** PEM certificate chain and key: HTTPS (ALPN h2 and http/1.1) instead of cleartext. */
  tls?: { cert: string; key: string };
  /** The Hono app: every HTTP/1.1 request, and every HTTP/2 request that is not gRPC. */
  fetch: (request: Request) => Response | Promise<Response>;
  /**
   * gRPC over HTTP/2 (grpc/ `createGrpcHandlers`): `stream` may take a stream before Node
   * builds its request and response objects for it; `request` gets every other gRPC request
   * (content-type application/grpc…). Without it Hono answers those too.
   */
  grpc?: {
    stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): boolean;
    request: Http2Handler;
  };
  logger: Logger;
}

export interface Listener {
  /** The HTTP/1.1 server: its timeouts and header limits are the ones in force. */
  http1: Server;
  http2: Http2Server;
  port: number;
  /** Stops accepting, lets requests in flight finish (GOAWAY on HTTP/2), resolves once every socket is closed. */
  close(): Promise<void>;
}

/**
 * One port, both protocols. An HTTP/1.1 server (Hono) and an HTTP/2 server (gRPC, then Hono)
 * never listen themselves; a front server accepts every connection and hands it to one of
 * them: in cleartext by the connection's first bytes (the HTTP/2 preface, or anything else),
 * with TLS by the protocol ALPN agreed. Either way the same two servers, with the same limits
 * and the same shutdown, serve it. The cost on the HTTP/1.1 path is per connection (one
 * `data` event looked at), never per request.
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  const { http, logger } = options;
  const hono = getRequestListener(options.fetch, { hostname: options.host });

  const http1 = createHttp1Server(httpServerOptions(http), hono);
  limitConnections(http1, http);
  // The HTTP/1.1 server tracks its connections (and enforces the header and request
  // timeouts) from its 'listening' event on; it never listens here, so it is told.
  http1.emit('listening');

  const limits = new Http2Limits(http);
  const grpc = options.grpc;
  const http2 = createHttp2Server({
    settings: { maxConcurrentStreams: 100, maxHeaderListSize: 16 * 1024 },
    maxHeaderListPairs: 100,
  });
  // Node makes its compatibility request and response on a server's 'stream' event. This
  // server never accepts a connection: it is handed the streams the direct gRPC path does not
  // take, so that path pays nothing for objects it would not use.
  const compatibility = createHttp2Server(
    {},
    limits.timed((req, res) => {
      if (grpc && req.headers['content-type']?.startsWith('application/grpc')) return grpc.request(req, res);
      void hono(req, res);
    }),
  );
  // Node passes the raw header list as a fourth argument its types leave out (the SDKs' repeated authorization).
  http2.on(
    'stream',
    (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders?: string[]) => {
      if (grpc?.stream(stream, headers, rawHeaders ?? [])) return limits.timeStream(stream);
      compatibility.emit('stream', stream, headers, flags, rawHeaders);
    },
  );
  limits.watch(http2);
  const stalls = new WriteStallGuard(http.writeStallTimeoutMs, limits.sessions, (what) =>
    logger.debug({ what }, `cut off a client that took no bytes of its response for ${http.writeStallTimeoutMs} ms`),
  );
  const hand = (server: Server | Http2Server, socket: Socket) => {
    stalls.watch(socket);
    server.emit('connection', socket);
  };

  let front: TcpServer;
  if (options.tls) {
    front = createTlsServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        ALPNProtocols: ['h2', 'http/1.1'],
        handshakeTimeout: http.headersTimeoutMs,
        // As on the cleartext port: a response's small writes (SSE events, HTTP/2 frames) go out
        // at once instead of waiting for the client to acknowledge the previous segment.
        noDelay: true,
      },
      (socket: TLSSocket) => hand(socket.alpnProtocol === 'h2' ? http2 : http1, socket),
    );
    front.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'TLS handshake failed'));
  } else {
    let toldAboutTls = false;
    front = createTcpServer({ noDelay: true }, (socket) =>
      routeByFirstBytes(socket, {
        timeoutMs: http.headersTimeoutMs,
        http1: (s) => hand(http1, s),
        http2: (s) => hand(http2, s),
        tls: (s) => {
          if (!toldAboutTls) {
            toldAboutTls = true;
            logger.warn(
              'a client spoke TLS to this cleartext port; serve HTTPS with SWITCHBOARD_TLS_CERT and SWITCHBOARD_TLS_KEY (or SWITCHBOARD_TLS_SELF_SIGNED=true)',
            );
          }
          s.destroy();
        },
      }),
    );
  }
  front.maxConnections = http.maxConnections;
  front.on('error', (error) => logger.warn({ err: error }, 'listener error'));

  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(options.port, options.host, () => {
        front.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    stalls.stop();
    throw error;
  }
  const address = front.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      front.close(() => {
        stalls.stop();
        resolve();
      });
      http1.close();
      limits.closeAll();
      // Requests that have not finished within a request timeout are not waited for.
      setTimeout(() => {
        http1.closeAllConnections();
        limits.destroyAll();
      }, http.requestTimeoutMs).unref();
    });
    return closing;
  };
  return { http1, http2, port, close };
}
