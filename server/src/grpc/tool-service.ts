import { type JsonObject, toBinary } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { Tool } from '@switchboard/sdk';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import type { AccountSelector } from '../execution/executor.js';
import { listAvailableTools, listScopedTools, listTools } from '../execution/tool-listing.js';
import { callerOf } from './auth.js';
import { given, pageOf } from './convert.js';
import { ExecuteToolRequestSchema, type ToolService } from './gen/scalekit/v1/tools/tools_pb.js';
import { RetryWatch } from './retries.js';

/** The REST shape of a tool (toolToApi) as a tools.Tool message. */
export function toolMessage(tool: Tool) {
  return {
    id: tool.id,
    provider: tool.provider,
    definition: tool.definition as unknown as JsonObject,
    metadata: tool.metadata as JsonObject,
    tags: tool.tags,
    isDefault: tool.is_default,
  };
}

/** ToolService: the same executor and tool lists as /api/v1/execute_tool and /api/v1/tools*. */
export function toolService(services: Services): ServiceImpl<typeof ToolService> {
  const retries = new RetryWatch(() => services.clock.now());
  return {
    async executeTool(req, context) {
      let account: AccountSelector;
      const connectedAccountId = given(req.connectedAccountId);
      const connector = given(req.connector);
      const identifier = given(req.identifier);
      if (connectedAccountId) {
        account = {
          connectedAccountId,
          ...(connector ? { connector } : {}),
          ...(identifier ? { identifier } : {}),
        };
      } else if (connector && identifier) account = { connector, identifier };
      else throw new AppError('validation_failed', 'give connected_account_id, or connector and identifier');
      const keyOf = () => retries.key(callerOf(context).clientId, toBinary(ExecuteToolRequestSchema, req));
      let key = retries.remembersFailures ? keyOf() : undefined;
      const attempt = key === undefined ? 1 : retries.attempt(key);
      let result: Awaited<ReturnType<typeof services.executor.execute>>;
      try {
        result = await services.executor.execute({
          toolName: req.toolName,
          params: req.params ?? {},
          account,
          source: 'GRPC',
          signal: context.signal,
          attempt,
        });
      } catch (error) {
        key ??= keyOf();
        retries.failed(key, attempt);
        throw error;
      }
      if (key !== undefined) retries.succeeded(key);
      // A Struct holds an object; a tool that answers anything else is wrapped, as it is nowhere else.
      const data = isObject(result.data) ? result.data : { result: result.data };
      return { data: data as JsonObject, executionId: result.executionId };
    },

    async listTools(req) {
      const page = pageOf(req.pageSize, req.pageToken, 500, 100);
      const filter = req.filter;
      const { tools, toolNames, total } = await listTools(
        services,
        {
          provider: given(filter?.provider),
          toolNames: filter?.toolName,
          query: given(filter?.query),
          connector: given(filter?.connector),
          connectedAccountId: given(filter?.connectedAccountId),
        },
        page,
      );
      return { tools: filter?.summary === true ? [] : tools.map(toolMessage), toolNames, ...page.tokens(total) };
    },

    async listScopedTools(req) {
      if (!req.identifier) throw new AppError('validation_failed', 'identifier: give the user identifier');
      const page = pageOf(req.pageSize, req.pageToken, 500, 100);
      const { tools, total } = await listScopedTools(
        services,
        req.identifier,
        {
          providers: req.filter?.providers,
          toolNames: req.filter?.toolNames,
          connectionNames: req.filter?.connectionNames,
        },
        page,
      );
      return {
        tools: tools.map((scoped) => ({
          tool: toolMessage(scoped.tool),
          identifier: scoped.identifier,
          connectedAccountId: scoped.connected_account_id,
        })),
        ...page.tokens(total),
      };
    },

    async listAvailableTools(req) {
      if (!req.identifier) throw new AppError('validation_failed', 'identifier: give the user identifier');
      const page = pageOf(req.pageSize, req.pageToken, 500, 100);
      const { tools, total } = await listAvailableTools(services, req.identifier, page);
      return { tools: tools.map(toolMessage), ...page.tokens(total) };
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
