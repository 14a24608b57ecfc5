import {
  constants,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Config } from '../config.js';

export type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * The HTTP/1.1 limits of `config.http`, as HTTP/2 can have them. Node's own HTTP/2 timeout
 * counts socket inactivity, which would also cut a session waiting on a slow tool call; so:
 * - a session must open its first stream within `headersTimeoutMs`, and is closed (GOAWAY)
 *   once it has had no open stream for `keepAliveTimeoutMs`;
 * - a request must have arrived whole (headers and body) within `requestTimeoutMs`: 408
 *   before an answer started, the stream cancelled after;
 * - sessions and their open streams are tracked, so shutdown can close every one of them and
 *   the write-stall guard (write-stall.ts) can find the ones whose client stopped reading.
 */
export class Http2Limits {
  /** Every session, with its open streams. */
  readonly sessions = new Map<Http2Session, Set<ServerHttp2Stream>>();

  constructor(private readonly http: Config['http']) {}

  watch(server: Http2Server): void {
    server.on('session', (session) => this.track(session));
  }

  /** Wraps a handler with the request timeout. */
  timed(handler: Http2Handler): Http2Handler {
    return (req, res) => {
      this.limitArrival(req.stream, req, () => {
        if (res.headersSent) return;
        res.writeHead(408, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`the request did not arrive within ${this.http.requestTimeoutMs} ms\n`);
      });
      handler(req, res);
    };
  }

  /** The request timeout for a stream served without Node's request and response objects. */
  timeStream(stream: ServerHttp2Stream): void {
    this.limitArrival(stream, stream, () => {
      if (stream.headersSent) return;
      stream.respond({ ':status': 408, 'content-type': 'text/plain; charset=utf-8' });
      stream.end(`the request did not arrive within ${this.http.requestTimeoutMs} ms\n`);
    });
  }

  /** Answers 408 (`late`) and cancels the stream unless `body` ended within the request timeout. */
  private limitArrival(stream: ServerHttp2Stream, body: NodeJS.EventEmitter, late: () => void): void {
    if (stream.endAfterHeaders) return;
    let arrived = false;
    const timer = setTimeout(() => {
      if (arrived || stream.closed || stream.destroyed) return;
      late();
      stream.close(constants.NGHTTP2_CANCEL);
    }, this.http.requestTimeoutMs);
    const done = () => {
      arrived = true;
      clearTimeout(timer);
    };
    body.once('end', done);
    stream.once('close', done);
  }

  /** GOAWAY to every session: streams in flight finish, no new ones start. */
  closeAll(): void {
    for (const session of this.sessions.keys()) session.close();
  }

  /** Ends the sessions that have not finished within the grace period. */
  destroyAll(): void {
    for (const session of this.sessions.keys()) session.destroy();
  }

  private track(session: Http2Session): void {
    const streams = new Set<ServerHttp2Stream>();
    this.sessions.set(session, streams);
    let idle: NodeJS.Timeout | undefined;
    const closeWhenIdle = (ms: number) => {
      idle = setTimeout(() => {
        session.close();
        // A peer that does not read our GOAWAY must not keep the socket.
        setTimeout(() => session.destroy(), 1_000).unref();
      }, ms);
      idle.unref();
    };
    closeWhenIdle(this.http.headersTimeoutMs);
    session.on('stream', (stream) => {
      streams.add(stream);
      clearTimeout(idle);
      stream.once('close', () => {
        streams.delete(stream);
        if (streams.size === 0 && !session.closed && !session.destroyed) closeWhenIdle(this.http.keepAliveTimeoutMs);
      });
    });
    session.on('error', () => undefined);
    session.once('close', () => {
      clearTimeout(idle);
      this.sessions.delete(session);
    });
  }
}
