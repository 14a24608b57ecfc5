import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ACCOUNT_ERRORS, AppError } from '../errors.js';
import type { ToolExecutor } from '../execution/executor.js';
import { ToolExecutionError } from '../execution/tool-execution-error.js';
import type { ToolSurface } from '../mcp/tool-surface.js';
import type { McpRequestState } from './request-state.js';

export const SERVER_INFO = { name: 'switchboard', version: '0.1.0' };

/**
 * How long a 2026-07-28 client may reuse a tools/list answer before asking again. A list
 * changes only when an admin edits the config's mappings (listChanged is false: a stateless
 * server cannot notify), so a client may see such an edit up to this late; an agent that
 * lists before every step stops paying a round trip per step. Private: the answer is for
 * the holder of this URL or token only.
 */
const TOOLS_LIST_CACHE_HINT = { ttlMs: 5 * 60_000, cacheScope: 'private' } as const;

/** Only the part of the declared client capabilities this server reads. */
const declaredCapabilities = z.looseObject({
  elicitation: z.looseObject({ url: z.looseObject({}).optional() }).optional(),
});

export interface ServerFactoryDeps {
  executor: ToolExecutor;
  surface: ToolSurface;
}

/**
 * A failed tool call as a result the model can read: the message as text (with the link
 * that re-connects the account, when there is one), and the REST error body as structured
 * content, with the execution id of its tool_call_logs row.
 */
function errorResult(error: AppError, toolName: string): CallToolResult {
  const text =
    error.code === 'tool_input_invalid' ? `Invalid arguments for tool ${toolName}: ${error.message}` : error.message;
  return {
    content: [{ type: 'text', text }],
    structuredContent: {
      ...error.toJSON(),
      ...(error instanceof ToolExecutionError ? { execution_id: error.executionId } : {}),
    },
    isError: true,
  };
}

/**
 * On the 2026-07-28 revision a client states its capabilities on every request, so a
 * stateless server can offer the connect link as a URL-mode elicitation (a multi-round-trip
 * `input_required` result; the client retries the call once the user is done). 2025-era
 * clients declare capabilities only in `initialize`, which a per-request server never sees,
 * and their elicitation is a server→client request whose answer would reach another
 * instance, so they get the link in the tool result only.
 */
function urlElicitation(
  error: AppError,
  ctx: ServerContext,
  era: 'legacy' | 'modern',
): InputRequiredResult | undefined {
  if (era !== 'modern' || !ACCOUNT_ERRORS.has(error.code)) return undefined;
  const link = error.details?.authentication_link;
  if (typeof link !== 'string') return undefined;
  const envelope: Record<string, unknown> = { ...ctx.mcpReq.envelope };
  const capabilities = declaredCapabilities.safeParse(envelope[CLIENT_CAPABILITIES_META_KEY]);
  if (!capabilities.success || !capabilities.data.elicitation?.url) return undefined;
  const connection = typeof error.details?.connection_name === 'string' ? error.details.connection_name : 'account';
  const key = `connect_${connection}`;
  // Asked once per call: after the user declined, or accepted but the account is still not
  // usable, the call ends with the error result instead of asking again.
  if (inputResponse(ctx.mcpReq.inputResponses, key).kind !== 'missing') return undefined;
  return inputRequired({
    inputRequests: { [key]: inputRequired.elicitUrl({ message: error.message, url: link }) },
  });
}

/**
 * The SDK's server, closing without a stack trace: its close hook (`Protocol._onclose`) builds
 * a "Connection closed" SdkError on every close, whether or not anything is pending, and a
 * per-request server closes once per request, in either protocol era. Capturing that error's
 * stack was about 2% of a tools/call's CPU (profiled on the 2025-06-18 path); the error is only
 * ever the reason handed to handlers still pending when a client goes away, where a stack says
 * nothing.
 */
export class PerRequestServer extends Server {
  protected override _onclose(): void {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super._onclose();
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

/**
 * A fresh low-level server for one request, exposing exactly the target's mapped tools. With
 * a splice, tools/list lets the endpoint write the list's kept serialization (list-splice.ts).
 */
export function buildMcpServer(request: McpRequestState, era: 'legacy' | 'modern', deps: ServerFactoryDeps): Server {
  const { target, splice } = request;
  const server = new PerRequestServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    cacheHints: { 'tools/list': TOOLS_LIST_CACHE_HINT },
    ...(target.description ? { instructions: target.description } : {}),
  });

  server.setRequestHandler('tools/list', () => {
    const listing = deps.surface.listing(target.mappings);
    return splice ? splice.result(listing, era) : { tools: listing.tools };
  });

  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name } = request.params;
    const mapping = deps.surface.route(target.mappings, name);
    // An unknown tool is a protocol error (as the SDK's McpServer answers it); every failure
    // of a known tool is a result the model can read.
    if (!mapping) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
    try {
      const result = await deps.executor.execute({
        toolName: name,
        params: request.params.arguments ?? {},
        account: { connector: mapping.connectionName, identifier: target.userIdentifier },
        prefetched: target.prefetched?.get(mapping.connectionName),
        source: 'MCP',
        instanceId: target.instanceId,
        mappedTools: mapping.tools,
        signal: ctx.mcpReq.signal,
      });
      return server.projectCallToolResult({ content: [{ type: 'text', text: result.json }] }, undefined);
    } catch (error) {
      const failure = error instanceof AppError ? error : new AppError('internal', 'the tool failed unexpectedly');
      return urlElicitation(failure, ctx, era) ?? errorResult(failure, name);
    }
  });

  return server;
}
