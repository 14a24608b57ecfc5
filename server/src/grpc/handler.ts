import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Code, ConnectError, createContextValues } from '@connectrpc/connect';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import type { connectNodeAdapter } from '@connectrpc/connect-node';
import type { Services } from '../context.js';
import { authorizationValues, readAuthorizationValues } from './auth.js';
import { toConnectError, unimplemented } from './errors.js';
import { grpcInterceptors, grpcRoutes, grpcServices } from './routes.js';
import { createUnaryStreamHandler, type GrpcStreamHandler } from './unary.js';

/** A Node request listener for http2 (and http) servers. */
export type NodeHandler = ReturnType<typeof connectNodeAdapter>;
type NodeServerRequest = Parameters<NodeHandler>[0];
type NodeServerResponse = Parameters<NodeHandler>[1];
/** A plain Node request listener, such as @hono/node-server's getRequestListener(app.fetch). */
export type NodeListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => unknown;

/**
 * What a request no gRPC route matches gets: a gRPC call an UNIMPLEMENTED status (trailers-only,
 * with its ErrorInfo), anything else a 404 unless the caller composes its own fallback.
 */
function isGrpc(req: NodeServerRequest): boolean {
  return String(req.headers['content-type'] ?? '').startsWith('application/grpc');
}

export function notServed(req: NodeServerRequest, res: NodeServerResponse): void {
  answerAlone(req, res, unimplemented(`${req.url ?? ''} is not served here`), 404, 'not found\n');
}

/** A request answered without a handler: a gRPC call a trailers-only `error`, anything else `status`. */
function answerAlone(
  req: NodeServerRequest,
  res: NodeServerResponse,
  error: ConnectError,
  status: number,
  text: string,
): void {
  if (isGrpc(req)) {
    const headers = setTrailerStatus(new Headers({ 'content-type': 'application/grpc+proto' }), error);
    res.writeHead(200, Object.fromEntries(headers));
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/**
 * The backstop of "every error carries an ErrorInfo": errors connect raises before any
 * interceptor runs (a body it cannot decode, a message over the size limit, a deadline) reach
 * the trailers without details; they get a google.rpc.Status with the same code and message.
 */
function withErrorDetails(res: NodeServerResponse, services: Services): void {
  const addTrailers = res.addTrailers.bind(res) as (trailers: Record<string, string | string[]>) => void;
  res.addTrailers = (trailers: Record<string, string | string[]>) => {
    const status = Number(trailers['grpc-status'] ?? 0);
    if (status === 0 || trailers['grpc-status-details-bin'] !== undefined) return addTrailers(trailers);
    const message = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
    const code = status in Code ? (status as Code) : Code.Unknown;
    const detailed = setTrailerStatus(new Headers(), toConnectError(new ConnectError(message, code), services.logger));
    addTrailers({ ...trailers, 'grpc-status-details-bin': detailed.get('grpc-status-details-bin') ?? '' });
  };
}

/** The gRPC face of a server: the direct unary path first, connect-node for whatever it leaves. */
export interface GrpcHandlers {
  /** Every unary method of our services, on the HTTP/2 stream itself (see unary.ts). */
  stream: GrpcStreamHandler;
  /**
   * A Node request handler (http2, or http for the fallback's sake) for what `stream` leaves,
   * served by connect-node (the gRPC protocol only: no Connect or gRPC-Web). With `fallback`,
   * everything that is not gRPC goes there, for example the Hono app on the same server.
   */
  request: NodeHandler;
}

export function createGrpcHandlers(services: Services, options: { fallback?: NodeListener } = {}): GrpcHandlers {
  const fallback = options.fallback as NodeHandler | undefined;
  const served = grpcServices(services);
  // connect-node serves only what the direct path leaves (streaming methods, gRPC over HTTP/1.1,
  // unknown methods), so it is loaded on the first such request rather than at every start
  // (measured: ~50 ms of start and ~6 MB of memory on the bench machine).
  let adapter: Promise<NodeHandler> | undefined;
  const load = () =>
    (adapter ??= import('@connectrpc/connect-node').then(({ connectNodeAdapter }) =>
      connectNodeAdapter({
        routes: grpcRoutes(served),
        grpc: true,
        connect: false,
        grpcWeb: false,
        interceptors: grpcInterceptors(services),
        readMaxBytes: services.config.maxBodyBytes,
        // An unknown gRPC method is answered in gRPC (UNIMPLEMENTED with its ErrorInfo), never by the
        // fallback's HTTP 404, which the Python SDK could not decode. connect-node types its response
        // without `write`; what it hands the fallback is the server's own response.
        fallback: (req, res) => (isGrpc(req) || !fallback ? notServed(req, res) : fallback(req, res)),
        contextValues: (req) => createContextValues().set(authorizationValues, readAuthorizationValues(req.rawHeaders)),
      }),
    ));
  return {
    stream: createUnaryStreamHandler(services, served),
    request: (req, res) => {
      if (isGrpc(req)) withErrorDetails(res, services);
      load().then(
        (handler) => handler(req, res),
        (error: unknown) => {
          adapter = undefined;
          services.logger.error({ err: error }, 'the gRPC adapter could not be loaded');
          const unavailable = new ConnectError('the gRPC service could not be loaded', Code.Unavailable);
          if (!res.headersSent)
            answerAlone(req, res, toConnectError(unavailable, services.logger), 503, 'service unavailable\n');
        },
      );
    },
  };
}
