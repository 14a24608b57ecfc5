import type { ServiceImpl } from '@connectrpc/connect';
import type { Services } from '../context.js';
import { given, pageOf, timestamp } from './convert.js';
import {
  type ConnectionService,
  ConnectionStatus,
  ConnectionType,
} from './gen/scalekit/v1/connections/connections_pb.js';

/**
 * ConnectionService.ListAppConnections: the connections of GET /api/v1/connections/app, in the
 * fields the SDKs read (provider_key "GMAIL", key_id = the connection name, an OAuth type, and
 * COMPLETED: a connection here is usable once it exists). No MCP server per connection here,
 * so mcp_server_url stays empty.
 */
export function connectionService(services: Services): ServiceImpl<typeof ConnectionService> {
  return {
    async listAppConnections(req) {
      const page = pageOf(req.pageSize, req.pageToken, 100, 50);
      const { rows, total } = await services.connections.list({
        provider: given(req.provider)?.toLowerCase(),
        limit: page.limit,
        offset: page.offset,
      });
      return {
        connections: rows.map((row) => ({
          id: row.id,
          type: ConnectionType.OAUTH,
          status: ConnectionStatus.COMPLETED,
          enabled: true,
          providerKey: row.provider.toUpperCase(),
          keyId: row.name,
          createdAt: timestamp(row.created_at),
        })),
        ...page.tokens(total),
      };
    },
  };
}
