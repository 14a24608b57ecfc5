import type { Transport } from './transport.js';
import type {
  ExecuteToolInput,
  ExecuteToolResult,
  ListScopedToolsParams,
  ListToolsParams,
  ScopedToolList,
  ToolList,
} from './types.js';

const joined = (values: string[] | undefined) => (values?.length ? values.join(',') : undefined);

/** The tool catalog and the REST way to run a tool for a user. */
export class Tools {
  constructor(private readonly http: Transport) {}

  /** Lists tools of the catalog with their JSON Schemas, filtered by provider, connection, name or text. */
  list(params: ListToolsParams = {}): Promise<ToolList> {
    return this.http.request<ToolList>({
      method: 'GET',
      path: '/api/v1/tools',
      query: {
        'filter.provider': params.provider,
        'filter.connector': params.connector,
        'filter.connected_account_id': params.connected_account_id,
        'filter.identifier': params.identifier,
        'filter.tool_name': joined(params.tool_name),
        'filter.query': params.query,
        'filter.summary': params.summary,
        page_size: params.page_size,
        page_token: params.page_token,
      },
      idempotent: true,
    });
  }

  /** Lists the tools a user can run now: those of connections where the user's account is ACTIVE. */
  listScoped(params: ListScopedToolsParams): Promise<ScopedToolList> {
    return this.http.request<ScopedToolList>({
      method: 'GET',
      path: '/api/v1/tools/scoped',
      query: {
        identifier: params.identifier,
        'filter.providers': joined(params.providers),
        'filter.tool_names': joined(params.tool_names),
        'filter.connection_names': joined(params.connection_names),
        page_size: params.page_size,
        page_token: params.page_token,
      },
      idempotent: true,
    });
  }

  /**
   * Runs a tool as one user and returns the tool's answer with its `execution_id`.
   * Never retried after the tool ran: a failure throws SwitchboardError with `toolErrorCode`,
   * `executionId` and, for a missing or revoked grant, `authenticationLink`.
   */
  execute<T = Record<string, unknown>, P = Record<string, unknown>>(
    input: ExecuteToolInput<P>,
  ): Promise<ExecuteToolResult<T>> {
    return this.http.request<ExecuteToolResult<T>>({ method: 'POST', path: '/api/v1/execute_tool', body: input });
  }
}
