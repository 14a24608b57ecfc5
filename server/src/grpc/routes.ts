import type { DescService } from '@bufbuild/protobuf';
import type { ConnectRouter, Interceptor, ServiceImpl } from '@connectrpc/connect';
import type { Services } from '../context.js';
import { authenticate } from './auth.js';
import { connectedAccountService } from './connected-account-service.js';
import { connectionService } from './connection-service.js';
import { toConnectError } from './errors.js';
import { ConnectedAccountService } from './gen/scalekit/v1/connected_accounts/connected_accounts_pb.js';
import { ConnectionService } from './gen/scalekit/v1/connections/connections_pb.js';
import { McpService } from './gen/scalekit/v1/mcp/mcp_pb.js';
import { ToolService } from './gen/scalekit/v1/tools/tools_pb.js';
import { mcpService } from './mcp-service.js';
import { toolService } from './tool-service.js';
import type { ServedService } from './unary.js';

/** Outermost: whatever the auth check or a handler throws leaves as a ConnectError with an ErrorInfo. */
function translateErrors(services: Services): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      throw toConnectError(error, services.logger);
    }
  };
}

/** The interceptors every gRPC call goes through, outermost first. */
export function grpcInterceptors(services: Services): Interceptor[] {
  return [translateErrors(services), authenticate(services)];
}

function serve<S extends DescService>(service: S, impl: ServiceImpl<S>): ServedService {
  return { service, impl };
}

/**
 * The scalekit.v1.* services Scalekit's SDKs call, each a thin adapter over the domain
 * services. Built once per server: connect-node and the direct unary path share them (and
 * so ExecuteTool's memory of failed calls).
 */
export function grpcServices(services: Services): ServedService[] {
  return [
    serve(ToolService, toolService(services)),
    serve(ConnectedAccountService, connectedAccountService(services)),
    serve(ConnectionService, connectionService(services)),
    serve(McpService, mcpService(services)),
  ];
}

/** The services as connect-node routes. */
export function grpcRoutes(served: readonly ServedService[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, impl } of served) router.service(service, impl as Partial<ServiceImpl<DescService>>);
  };
}
