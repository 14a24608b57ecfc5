export { GRPC_CODES, TOOL_ERROR, toConnectError } from './errors.js';
export { createGrpcHandler, type NodeHandler, type NodeListener, notServed } from './handler.js';
export { grpcInterceptors, grpcRoutes } from './routes.js';
