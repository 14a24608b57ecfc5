import { createGrpcHandlers } from '../../src/grpc/index.js';
import { type Listener, listen } from '../../src/listener/listen.js';
import type { Stack } from './stack.js';

/**
 * The stack served on one loopback port as `start` serves it: an HTTP/2 preface goes to the h2c
 * server (the gRPC handlers, Hono behind them), anything else to the HTTP/1.1 server.
 */
export function listenOnLoopback(stack: Stack): Promise<Listener> {
  return listen({
    port: 0,
    host: '127.0.0.1',
    http: stack.services.config.http,
    fetch: stack.app.fetch,
    grpc: createGrpcHandlers(stack.services),
    logger: stack.services.logger,
  });
}
