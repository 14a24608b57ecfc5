import type { Transport } from './transport.js';
import type { ListToolCallLogsParams, ToolCallLogList } from './types.js';

/** The audit log of tool calls, from the REST API and from MCP. */
export class Logs {
  constructor(private readonly http: Transport) {}

  /** Lists tool calls, newest first, filtered by tool, connection, user, account, status, source or time. */
  list(params: ListToolCallLogsParams = {}): Promise<ToolCallLogList> {
    return this.http.request<ToolCallLogList>({
      method: 'GET',
      path: '/api/v1/agentkit/tool_call_logs',
      query: { ...params },
      idempotent: true,
    });
  }
}
