import type { Socket } from 'node:net';

/** What every HTTP/2 connection without TLS (h2c with prior knowledge) starts with, RFC 9113 §3.4. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A TLS record of type handshake (a ClientHello) begins with 0x16 0x03. */
const TLS_HANDSHAKE = 0x16;

export type FirstBytesVerdict = 'http2' | 'http1' | 'tls';

/**
 * Reads what the first bytes of a cleartext connection say, or undefined while they are a
 * strict prefix of the HTTP/2 preface (a client may send it in more than one segment).
 */
export function judgeFirstBytes(bytes: Buffer): FirstBytesVerdict | undefined {
  if (bytes[0] === TLS_HANDSHAKE) return 'tls';
  const compared = Math.min(bytes.length, HTTP2_PREFACE.length);
  if (bytes.compare(HTTP2_PREFACE, 0, compared, 0, compared) !== 0) return 'http1';
  return bytes.length >= HTTP2_PREFACE.length ? 'http2' : undefined;
}

export interface FirstBytesRoutes {
  http1(socket: Socket): void;
  http2(socket: Socket): void;
  /** A TLS client on the cleartext port: it cannot be answered in a language it reads. */
  tls(socket: Socket): void;
  /** The connection must say what it is within this, or it is closed. */
  timeoutMs: number;
}

/**
 * Sends a cleartext connection to the HTTP/2 or the HTTP/1.1 server by its first bytes, once
 * per connection: one `data` event (rarely a few, for a preface split across segments), then
 * the bytes go back into the socket and the chosen server reads them as if it had accepted
 * the socket itself. A connection that says nothing, or closes first, is dropped after
 * `timeoutMs` without reaching either server.
 */
export function routeByFirstBytes(socket: Socket, routes: FirstBytesRoutes): void {
  let seen: Buffer | undefined;
  const onTimeout = () => socket.destroy();
  const onEnd = () => socket.destroy();
  const onData = (chunk: Buffer) => {
    seen = seen ? Buffer.concat([seen, chunk]) : chunk;
    const verdict = judgeFirstBytes(seen);
    if (!verdict) return;
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    if (verdict === 'tls') return routes.tls(socket);
    if (verdict === 'http2') {
      // Not resumed: the HTTP/2 session reads the unshifted bytes itself, and a flowing socket
      // would hand them to nobody ("Session closed with error code 2").
      return routes.http2(socket);
    }
    routes.http1(socket);
    socket.resume();
  };
  const onError = () => socket.destroy();
  socket.setTimeout(routes.timeoutMs);
  socket.on('timeout', onTimeout);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('data', onData);
}
