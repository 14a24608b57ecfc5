export { GRPC_CODES, TOOL_ERROR, toConnectError } from './errors.js';
export { createGrpcHandlers, type GrpcHandlers, type NodeHandler, type NodeListener, notServed } from './handler.js';
export { grpcInterceptors, grpcRoutes, grpcServices } from './routes.js';
export type { GrpcStreamHandler } from './unary.js';
