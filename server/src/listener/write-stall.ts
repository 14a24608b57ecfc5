import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * The libuv stream under a socket: the TCP handle itself, or the one under TLS (a TLS socket's
 * handle keeps it as `_parent`). `bytesWritten` counts bytes handed to it, `writeQueueSize` the
 * ones it still holds because the kernel would not take them. Node's own socket timeout reads
 * the same two to tell a write in progress from a stuck one; no public property does (a
 * socket's `bytesWritten` moves only when a whole write is done, and a response is often one
 * write of megabytes).
 */
interface StreamHandle {
  readonly bytesWritten?: number;
  readonly writeQueueSize?: number;
  readonly _parent?: StreamHandle;
}

function tcpHandle(socket: Socket): StreamHandle | undefined {
  let handle = (socket as unknown as { _handle?: StreamHandle | null })._handle ?? undefined;
  while (handle?._parent) handle = handle._parent;
  return handle;
}

/**
 * An HTTP/2 stream whose bytes wait on its own flow-control window while the connection carries
 * less than this counts as stuck: what a connection sends on its own (a PING's answer is 17
 * bytes, a SETTINGS acknowledgement 9) must not keep a stream nobody reads alive, while a big
 * write (the API reference's 1.7 MB script is one) going out to a slow reader moves the
 * connection by whole DATA frames.
 */
const STREAM_PROGRESS_BYTES = 1024;

/**
 * Sweeps run every quarter of the stall time, but at least every MAX_SWEEP_MS (so a stall is cut
 * within that much past the stall time) and at most every MIN_SWEEP_MS (a test's short one).
 */
const MAX_SWEEP_MS = 5_000;
const MIN_SWEEP_MS = 50;

/** What the last sweeps saw of a socket or stream with bytes waiting. */
interface Watch {
  /** Bytes the kernel had taken (a socket), or bytes still waiting (a stream). */
  mark: number;
  /** A stream's: bytes its connection's kernel had taken when the stream last moved. */
  wire: number;
  /** Sweeps in a row that saw no progress. */
  quiet: number;
}

/** Bytes the kernel has taken from `socket`, and bytes it would not take yet. */
function written(socket: Socket): { taken: number; queued: number } {
  const handle = tcpHandle(socket);
  const queued = handle?.writeQueueSize ?? 0;
  return { taken: (handle?.bytesWritten ?? 0) - queued, queued };
}

export type WriteStallCut = 'connection' | 'stream';

/**
 * Ends connections and streams whose client stopped taking the response. Node's limits leave a
 * gap here: `requestTimeout` stops once the request has arrived and `keepAliveTimeout` starts
 * once the response has finished, which one nobody reads never does. Clients that asked for a
 * large response and then read nothing held every place under the connection cap, and every
 * new client was refused.
 *
 * One timer sweeps every few seconds; nothing is done per request or per write. A connection
 * with bytes the kernel will not take (its TCP write queue is not empty) that has not taken one
 * for the stall time is destroyed, HTTP/1.1 or HTTP/2: a GOAWAY could not reach such a client,
 * and Node's `session.destroy()` waits for the queue to drain. An HTTP/2 stream held by its
 * flow-control window (a client that reads the connection but never opens the stream's window)
 * is reset, and its session, once it has no stream, closes on the keep-alive timeout. What has
 * nothing waiting is never looked at twice: a call waiting on a provider before its first
 * byte, an idle keep-alive connection, an event stream that is quiet but drained.
 */
export class WriteStallGuard {
  private readonly sockets = new Set<Socket>();
  private readonly watches = new WeakMap<object, Watch>();
  private readonly sweepsToStall: number;
  private readonly timer: NodeJS.Timeout;
  private readonly forget: (this: Socket) => void;

  constructor(
    stallMs: number,
    /** The HTTP/2 sessions and their open streams (Http2Limits keeps them). */
    private readonly sessions: ReadonlyMap<Http2Session, ReadonlySet<ServerHttp2Stream>>,
    private readonly onCut: (what: WriteStallCut) => void,
  ) {
    const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(stallMs / 4)));
    this.sweepsToStall = Math.max(1, Math.ceil(stallMs / every));
    this.timer = setInterval(() => this.sweep(), every).unref();
    const sockets = this.sockets;
    this.forget = function (this: Socket) {
      sockets.delete(this);
    };
  }

  /** A connection, from its hand-over to the HTTP/1.1 or the HTTP/2 server until it closes. */
  watch(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', this.forget);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    for (const socket of this.sockets) {
      if (!this.stuck(socket)) continue;
      socket.destroy();
      this.onCut('connection');
    }
    for (const [session, streams] of this.sessions) {
      if (streams.size === 0 || session.destroyed) continue;
      const socket = session.socket as Socket;
      // Destroyed just above: the session closes with it.
      if (socket.destroyed) continue;
      const wire = written(socket).taken;
      for (const stream of streams) {
        if (stream.closed || stream.destroyed || !this.streamStuck(stream, wire)) continue;
        stream.close(constants.NGHTTP2_CANCEL);
        this.onCut('stream');
      }
    }
  }

  /**
   * Whether `socket` has held bytes for the stall time and the kernel took none of them. (More
   * bytes written to a stuck socket join its queue and leave the count taken where it was.)
   */
  private stuck(socket: Socket): boolean {
    const { taken, queued } = written(socket);
    if (!(queued > 0)) {
      this.watches.delete(socket);
      return false;
    }
    const watch = this.watches.get(socket);
    if (!watch || watch.mark !== taken) {
      this.watches.set(socket, { mark: taken, wire: taken, quiet: 0 });
      return false;
    }
    return ++watch.quiet >= this.sweepsToStall;
  }

  /**
   * Whether `stream` has had bytes waiting for the stall time while none of its writes finished
   * and its connection (`wire`: bytes the kernel took) carried less than STREAM_PROGRESS_BYTES.
   * Bytes written meanwhile (an event stream's next event) are no progress.
   */
  private streamStuck(stream: ServerHttp2Stream, wire: number): boolean {
    const waiting = stream.bufferSize;
    if (!(waiting > 0)) {
      this.watches.delete(stream);
      return false;
    }
    const watch = this.watches.get(stream);
    if (!watch || waiting < watch.mark || wire - watch.wire >= STREAM_PROGRESS_BYTES) {
      this.watches.set(stream, { mark: waiting, wire, quiet: 0 });
      return false;
    }
    watch.mark = waiting;
    return ++watch.quiet >= this.sweepsToStall;
  }
}
