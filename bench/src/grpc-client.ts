import { type ClientHttp2Session, connect, constants, type IncomingHttpHeaders } from 'node:http2';

/** What a unary call answered: its gRPC status and, on success, the one reply message. */
export interface UnaryAnswer {
  status: number;
  message: string;
  reply?: Uint8Array;
}

const REFUSED = Symbol('refused');

/** A unary gRPC request body: one uncompressed length-prefixed message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * A unary gRPC client on node:http2 alone, for measuring the server: the same wire as
 * connect-node's client (one h2c session, POST, application/grpc+proto, te: trailers, one
 * length-prefixed message, status from the trailers or a trailers-only answer), without its
 * per-call pipeline, which costs the load generator 0.4–0.65 ms of CPU per call against
 * 0.07–0.12 ms for undici's REST calls, on the two cores the server uses too. This one costs
 * 0.11–0.15 ms. A session the server closed is opened again.
 */
export class RawGrpcClient {
  private session?: ClientHttp2Session;

  constructor(private readonly url: string) {}

  async call(path: string, message: Uint8Array, headers: Record<string, string>): Promise<UnaryAnswer> {
    const body = grpcFrame(message);
    const answer = await this.send(path, body, headers);
    // A stream the server refused (opened as its idle-session GOAWAY crossed it) was never
    // processed: HTTP/2 lets it be sent again, once, on a new session.
    return answer === REFUSED ? this.sendOrFail(path, body, headers) : answer;
  }

  private async sendOrFail(path: string, body: Buffer, headers: Record<string, string>): Promise<UnaryAnswer> {
    const answer = await this.send(path, body, headers);
    if (answer === REFUSED) throw new Error('the server refused the stream twice');
    return answer;
  }

  private send(path: string, body: Buffer, headers: Record<string, string>): Promise<UnaryAnswer | typeof REFUSED> {
    const session = this.open();
    return new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc+proto',
        te: 'trailers',
        ...headers,
      });
      let head: IncomingHttpHeaders = {};
      let tail: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        head = h;
      });
      stream.on('trailers', (t) => {
        tail = t;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => {
        if (head[':status'] === undefined && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return;
        reject(error);
      });
      stream.on('close', () => {
        if (head[':status'] === undefined && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) {
          if (this.session === session) this.session = undefined;
          return resolve(REFUSED);
        }
        if (Number(head[':status']) !== 200) return reject(new Error(`HTTP status ${String(head[':status'])}`));
        const final = tail ?? head;
        const status = Number(final['grpc-status']);
        if (!Number.isInteger(status)) return reject(new Error('no grpc-status'));
        const message = decodeURIComponent(String(final['grpc-message'] ?? ''));
        if (status !== 0) return resolve({ status, message });
        const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (data.length < 5 || data[0] !== 0 || data.readUInt32BE(1) !== data.length - 5) {
          return reject(new Error('not exactly one uncompressed reply message'));
        }
        resolve({ status, message, reply: data.subarray(5) });
      });
      stream.end(body);
    });
  }

  close(): void {
    this.session?.close();
  }

  private open(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.url);
    session.on('error', () => undefined);
    // The server closes an idle session (GOAWAY): the next call opens a new one.
    session.on('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }
}
