import type { ExecuteToolResult, ScopedToolList, ToolCallLogList, ToolList } from '@switchboard/sdk';
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Services } from '../context.js';
import { AppError } from '../errors.js';
import { toolNameCondition } from '../execution/call-log.js';
import type { AccountSelector } from '../execution/executor.js';
import { ToolExecutionError } from '../execution/tool-execution-error.js';
import { listAvailableTools, listScopedTools, listTools } from '../execution/tool-listing.js';
import { decodePageToken, pageSize, pageTokens, queryList, readJson, readQuery } from '../http/request.js';
import { named, pageFields, type RouteDoc } from '../http/route-docs.js';
import { toolFailureResponse } from './tool-failure.js';

const listQuery = z.strictObject({
  'filter.summary': z.enum(['true', 'false']).optional(),
  'filter.provider': z.string().optional(),
  'filter.identifier': z.string().optional(),
  'filter.tool_name': queryList.optional(),
  'filter.query': z.string().optional(),
  'filter.connector': z.string().optional(),
  'filter.organization_id': z.string().optional(),
  'filter.user_id': z.string().optional(),
  'filter.connected_account_id': z.string().optional(),
  page_size: pageSize(500, 100),
  page_token: z.string().optional(),
});

const scopedQuery = z.strictObject({
  identifier: z.string().min(1),
  'filter.providers': queryList.optional(),
  'filter.tool_names': queryList.optional(),
  'filter.connection_names': queryList.optional(),
  page_size: pageSize(500, 100),
  page_token: z.string().optional(),
});

const availableQuery = z.strictObject({
  identifier: z.string().min(1),
  page_size: pageSize(500, 100),
  page_token: z.string().optional(),
});

const executeBody = z.strictObject({
  tool_name: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
  connected_account_id: z.string().optional(),
  connector: z.string().optional(),
  identifier: z.string().optional(),
  organization_id: z.string().optional(),
  user_id: z.string().optional(),
  agent_run_id: z.string().optional(),
});

const logsQuery = z.strictObject({
  tool_name: z.string().optional(),
  /** Tool names that start with, or contain, this text (case-insensitive). */
  tool_name_prefix: z.string().min(1).max(200).optional(),
  tool_name_contains: z.string().min(1).max(200).optional(),
  execution_id: z.string().max(100).optional(),
  connection_name: z.string().optional(),
  identifier: z.string().optional(),
  connected_account_id: z.string().optional(),
  status: z.enum(['SUCCESS', 'FAILED']).optional(),
  source: z.enum(['API', 'MCP', 'GRPC']).optional(),
  start_time: z.iso.datetime({ offset: true }).optional(),
  end_time: z.iso.datetime({ offset: true }).optional(),
  page_size: pageSize(500, 50),
  page_token: z.string().optional(),
});

/** A tool of the catalog as toolToApi shows it. */
const toolSchema = named(
  'Tool',
  z.strictObject({
    id: z.string(),
    provider: z.string(),
    is_default: z.boolean(),
    tags: z.array(z.string()),
    metadata: z.strictObject({ provider: z.string(), scopes: z.array(z.string()) }),
    definition: z.strictObject({
      name: z.string(),
      description: z.string(),
      input_schema: z.record(z.string(), z.unknown()),
      annotations: z.strictObject({
        title: z.string().optional(),
        readOnlyHint: z.boolean(),
        destructiveHint: z.boolean(),
        idempotentHint: z.boolean(),
        openWorldHint: z.boolean(),
      }),
    }),
  }),
);
const listAnswer = named(
  'ToolList',
  z.strictObject({ tools: z.array(toolSchema), tool_names: z.array(z.string()), ...pageFields }),
);
const scopedAnswer = named(
  'ScopedToolList',
  z.strictObject({
    tools: z.array(z.strictObject({ connected_account_id: z.string(), identifier: z.string(), tool: toolSchema })),
    ...pageFields,
  }),
);
const availableAnswer = z.strictObject({ tools: z.array(toolSchema), ...pageFields });
/** What the tool answered (its own shape, see the tool's definition), and the call's audit id. */
const executeAnswer = named(
  'ExecuteToolResult',
  z.strictObject({ data: z.unknown(), execution_id: z.string().min(1) }),
);
const logSchema = named(
  'ToolCallLog',
  z.strictObject({
    id: z.string(),
    execution_id: z.string(),
    tool_name: z.string(),
    provider: z.string().nullable(),
    connection_id: z.string().nullable(),
    connection_name: z.string().nullable(),
    connected_account_id: z.string().nullable(),
    identifier: z.string().nullable(),
    status: z.enum(['SUCCESS', 'FAILED']),
    error_code: z.string().nullable(),
    error_message: z.string().nullable(),
    argument_summary: z.record(z.string(), z.unknown()).nullable(),
    duration_ms: z.number().int().nonnegative(),
    source: z.enum(['API', 'MCP', 'GRPC']),
    attempt: z.number().int().positive(),
    instance_id: z.string().nullable(),
    created_at: z.iso.datetime(),
  }),
);
const logsAnswer = named('ToolCallLogList', z.strictObject({ tool_call_logs: z.array(logSchema), ...pageFields }));

const TAG = 'Tools';
const PAGE = '{ tools, next_page_token, prev_page_token, total_size }';

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const toolRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    route: '/tools',
    tag: TAG,
    auth: 'management',
    summary: 'List the catalog’s tools',
    description: 'filter.summary=true answers only tool_names.',
    query: listQuery,
    response: { status: 200, description: `${PAGE}, with tool_names`, schema: listAnswer },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/tools/scoped',
    tag: TAG,
    auth: 'management',
    summary: 'The tools a user can run now: those of their ACTIVE accounts, each with its account',
    query: scopedQuery,
    response: { status: 200, description: PAGE, schema: scopedAnswer },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/tools/available',
    tag: TAG,
    auth: 'management',
    summary: 'Every tool of the providers a user has an account at, whatever its status',
    query: availableQuery,
    response: { status: 200, description: PAGE, schema: availableAnswer },
    errors: ['invalid_request', 'not_found'],
  },
  {
    method: 'post',
    route: '/execute_tool',
    tag: TAG,
    auth: 'management',
    summary:
      'Run a tool for a user: name the account by connected_account_id, or by connector and identifier (given beside an id, they must be its own)',
    description:
      'A failed call answers the error envelope with the call’s execution_id beside it; a code a reconnect fixes carries a fresh authentication link in error.details.',
    body: executeBody,
    response: { status: 200, description: '{ data, execution_id }', schema: executeAnswer },
    errors: [
      'not_found',
      'tool_not_found',
      'tool_input_invalid',
      'account_not_connected',
      'account_expired',
      'account_disconnected',
      'insufficient_scope',
      'provider_unauthorized',
      'provider_forbidden',
      'provider_not_found',
      'provider_bad_request',
      'provider_rate_limited',
      'provider_unavailable',
      'provider_timeout',
      'provider_error',
      'rate_limited',
      'tool_result_too_large',
    ],
  },
  {
    method: 'get',
    route: '/agentkit/tool_call_logs',
    tag: TAG,
    auth: 'management',
    summary: 'The audit log of tool calls (never payloads or tokens), newest first',
    query: logsQuery,
    response: {
      status: 200,
      description: '{ tool_call_logs, next_page_token, prev_page_token, total_size }',
      schema: logsAnswer,
    },
    errors: ['invalid_request'],
  },
];

export function registerToolRoutes(app: Hono<AppEnv>, services: Services): void {
  const { executor, db, config, callLog } = services;

  app.get('/tools', async (c) => {
    const q = readQuery(c, listQuery);
    const offset = decodePageToken(q.page_token);
    const { tools, toolNames, total } = await listTools(
      services,
      {
        provider: q['filter.provider'],
        toolNames: q['filter.tool_name'],
        query: q['filter.query'],
        connector: q['filter.connector'],
        connectedAccountId: q['filter.connected_account_id'],
      },
      { offset, limit: q.page_size },
    );
    return c.json({
      tools: q['filter.summary'] === 'true' ? [] : tools,
      tool_names: toolNames,
      ...pageTokens(offset, q.page_size, total),
    } satisfies ToolList satisfies z.output<typeof listAnswer>);
  });

  app.get('/tools/scoped', async (c) => {
    const q = readQuery(c, scopedQuery);
    const offset = decodePageToken(q.page_token);
    const { tools, total } = await listScopedTools(
      services,
      q.identifier,
      {
        providers: q['filter.providers'],
        toolNames: q['filter.tool_names'],
        connectionNames: q['filter.connection_names'],
      },
      { offset, limit: q.page_size },
    );
    return c.json({ tools, ...pageTokens(offset, q.page_size, total) } satisfies ScopedToolList satisfies z.output<
      typeof scopedAnswer
    >);
  });

  // The REST twin of ListAvailableTools: the tools of every provider the identifier has an account at.
  app.get('/tools/available', async (c) => {
    const q = readQuery(c, availableQuery);
    const offset = decodePageToken(q.page_token);
    const { tools, total } = await listAvailableTools(services, q.identifier, { offset, limit: q.page_size });
    return c.json({ tools, ...pageTokens(offset, q.page_size, total) } satisfies z.output<typeof availableAnswer>);
  });

  app.post('/execute_tool', async (c) => {
    const body = await readJson(c, executeBody, config.maxBodyBytes);
    let account: AccountSelector;
    if (body.connected_account_id) {
      account = {
        connectedAccountId: body.connected_account_id,
        ...(body.connector ? { connector: body.connector } : {}),
        ...(body.identifier ? { identifier: body.identifier } : {}),
      };
    } else if (body.connector && body.identifier) account = { connector: body.connector, identifier: body.identifier };
    else throw new AppError('validation_failed', 'give connected_account_id, or connector and identifier');
    try {
      const result = await executor.execute({
        toolName: body.tool_name,
        params: body.params ?? {},
        account,
        source: 'API',
        signal: c.req.raw.signal,
      });
      // The executor's bounded serialization of `data`, sent as is: { data, execution_id }.
      const parts: Record<keyof ExecuteToolResult<unknown> & keyof z.output<typeof executeAnswer>, string> = {
        data: result.json,
        execution_id: JSON.stringify(result.executionId),
      };
      return c.body(`{"data":${parts.data},"execution_id":${parts.execution_id}}`, 200, {
        'content-type': 'application/json',
      });
    } catch (error) {
      if (error instanceof ToolExecutionError) return toolFailureResponse(c, error);
      throw error;
    }
  });

  app.get('/agentkit/tool_call_logs', async (c) => {
    const q = readQuery(c, logsQuery);
    await callLog.flush();
    let query = db.selectFrom('tool_call_logs');
    if (q.tool_name) query = query.where('tool_name', '=', q.tool_name);
    if (q.tool_name_prefix) query = query.where(toolNameCondition('prefix', q.tool_name_prefix));
    if (q.tool_name_contains) query = query.where(toolNameCondition('contains', q.tool_name_contains));
    if (q.execution_id) query = query.where('execution_id', '=', q.execution_id);
    if (q.connection_name) query = query.where('connection_name', '=', q.connection_name);
    if (q.identifier) query = query.where('identifier', '=', q.identifier);
    if (q.connected_account_id) query = query.where('connected_account_id', '=', q.connected_account_id);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.source) query = query.where('source', '=', q.source);
    if (q.start_time) query = query.where('created_at', '>=', new Date(q.start_time).toISOString());
    if (q.end_time) query = query.where('created_at', '<', new Date(q.end_time).toISOString());
    const offset = decodePageToken(q.page_token);
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.page_size).offset(offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return c.json({
      tool_call_logs: rows.map(({ argument_summary, ...row }) => ({
        ...row,
        argument_summary: argument_summary ? (JSON.parse(argument_summary) as Record<string, unknown>) : null,
      })),
      ...pageTokens(offset, q.page_size, Number(total.n)),
    } satisfies ToolCallLogList satisfies z.output<typeof logsAnswer>);
  });
}
