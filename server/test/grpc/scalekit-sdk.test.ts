import http2 from 'node:http2';
import net from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { findTrailerError } from '@connectrpc/connect/protocol-grpc';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  ScalekitBadRequestException,
  ScalekitClient,
  ScalekitNotFoundException,
  ScalekitToolException,
} from '@scalekit-sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../src/grpc/gen/scalekit/v1/errdetails/errdetails_pb.js';
import { CreateMcpConfigRequestSchema, McpService } from '../../src/grpc/gen/scalekit/v1/mcp/mcp_pb.js';
import { ToolService } from '../../src/grpc/gen/scalekit/v1/tools/tools_pb.js';
import { frame, literalHeader } from '../support/h2-frames.js';
import { listenOnLoopback } from '../support/one-port.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * Serves the stack's app and its gRPC services on one loopback port with the process's own
 * listener: an HTTP/2 preface goes to the h2c server (the direct unary path, connect-node,
 * Hono behind them), anything else to the HTTP/1.1 server (the SDK's token fetch).
 */
async function serveOnePort(stack: Stack) {
  const listener = await listenOnLoopback(stack);
  return { url: `http://127.0.0.1:${listener.port}`, close: () => listener.close() };
}

/** One raw gRPC call (an empty request message); returns its response headers and trailers together. */
async function rawCall(
  url: string,
  path: string,
  authorization?: string,
  body: Buffer = Buffer.from([0, 0, 0, 0, 0]),
): Promise<Record<string, string>> {
  const session = http2.connect(url);
  try {
    const request = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...(authorization ? { authorization } : {}),
    });
    request.end(body);
    return await new Promise((resolve, reject) => {
      const seen: Record<string, string> = {};
      const keep = (headers: http2.IncomingHttpHeaders) => {
        for (const [name, value] of Object.entries(headers)) seen[name] = String(value);
      };
      request.on('response', keep);
      request.on('trailers', keep);
      request.on('end', () => resolve(seen));
      request.on('error', reject);
      request.resume();
    });
  } finally {
    session.close();
  }
}

/** A gRPC call carrying two authorization fields, as the Python SDK sends; resolves once the server has answered. */
async function sendWithTwoAuthorizations(url: string, path: string, values: string[], message: Uint8Array) {
  const { hostname, port } = new URL(url);
  const block = Buffer.concat([
    literalHeader(':method', 'POST'),
    literalHeader(':scheme', 'http'),
    literalHeader(':path', path),
    literalHeader(':authority', `${hostname}:${port}`),
    literalHeader('content-type', 'application/grpc+proto'),
    literalHeader('te', 'trailers'),
    ...values.map((value) => literalHeader('authorization', value)),
  ]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    let answer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      // Done at the first frame on stream 1 that ends it (HEADERS or DATA with END_STREAM).
      for (let at = 0; at + 9 <= answer.length; at += 9 + answer.readUIntBE(at, 3)) {
        if (answer.readUInt32BE(at + 5) === 1 && (answer.readUInt8(at + 4) & 1) === 1) {
          socket.destroy();
          resolve();
        }
      }
    });
    socket.on('error', reject);
    socket.write(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        frame(4, 0, 0, Buffer.alloc(0)),
        frame(1, 4, 1, block),
        frame(0, 1, 1, Buffer.concat([prefix, Buffer.from(message)])),
      ]),
    );
  });
}

/** authorization_details with an oauth_token, as an SDK user writes it (the SDK's type wants whole messages). */
function oauthDetails(token: { accessToken: string; refreshToken?: string }) {
  return { details: { case: 'oauthToken', value: token } } as never;
}

function errorInfoOf(error: unknown) {
  expect(error).toBeInstanceOf(ConnectError);
  return (error as ConnectError).findDetails(ErrorInfoSchema)[0];
}

describe('Scalekit official Node SDK 2.11.0 over h2c', () => {
  let stack: Stack;
  let server: Awaited<ReturnType<typeof serveOnePort>>;
  let scalekit: ScalekitClient;
  const providerCalls: string[] = [];
  let through: typeof fetch = fetch;

  const bearer =
    (token: () => Promise<string>): Interceptor =>
    (next) =>
    async (req) => {
      req.header.set('authorization', `Bearer ${await token()}`);
      return next(req);
    };
  const grpcClient = <T extends typeof McpService | typeof ToolService>(service: T, interceptors: Interceptor[] = []) =>
    createClient(service, createGrpcTransport({ baseUrl: server.url, interceptors }));

  beforeAll(async () => {
    stack = await startStack({
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.pathname.includes('/gmail/v1/')) providerCalls.push(url.pathname);
        return through(input, init);
      },
    });
    through = stack.fetch;
    server = await serveOnePort(stack);
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    scalekit = new ScalekitClient(server.url, stack.admin.client_id, stack.admin.client_secret);
  });

  afterAll(async () => {
    await server?.close();
    await stack?.close();
  });

  it('fetches its token on the first UNAUTHENTICATED and lists the app connections', async () => {
    const listed = await scalekit.actions.listConnections();
    expect(listed.totalSize).toBe(2);
    const gmail = listed.connections.find((c) => c.connectionName === 'MY_GMAIL');
    expect(gmail).toMatchObject({ provider: 'GMAIL', type: 'OAUTH', status: 'COMPLETED', enabled: true });
    expect(gmail?.createdAt).toBeDefined();
    const calendar = await scalekit.actions.listConnections({ provider: 'GOOGLECALENDAR' });
    expect(calendar.connections.map((c) => c.connectionName)).toEqual(['MY_CALENDAR']);
  });

  it('answers a call without a token, or with a bad one, UNAUTHENTICATED with an ErrorInfo', async () => {
    const anonymous = grpcClient(ToolService);
    const missing = await anonymous.listTools({}).catch((e: unknown) => e);
    expect((missing as ConnectError).code).toBe(Code.Unauthenticated);
    expect(errorInfoOf(missing)?.errorCode).toBe('unauthenticated');
    const forged = grpcClient(ToolService, [bearer(async () => 'not-a-token')]);
    const bad = await forged.listTools({}).catch((e: unknown) => e);
    expect((bad as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it('accepts a call when any of its authorization values is valid (the Python SDK sends two)', async () => {
    // Node's http2 client refuses a second authorization field; this writes the frames by hand.
    const token = await stack.token();
    const body = toBinary(
      CreateMcpConfigRequestSchema,
      create(CreateMcpConfigRequestSchema, { config: { name: 'two-values' } }),
    );
    await sendWithTwoAuthorizations(
      server.url,
      '/scalekit.v1.mcp.McpService/CreateMcpConfig',
      ['Bearer stale-token', `Bearer ${token}`],
      body,
    );
    const { rows } = await stack.services.mcpConfigs.list({ name: 'two-values', limit: 1, offset: 0 });
    expect(rows).toHaveLength(1);
    const stale = await rawCall(server.url, '/scalekit.v1.tools.ToolService/ListTools', 'Bearer stale-token');
    expect(stale['grpc-status']).toBe(String(Code.Unauthenticated));
  });

  it('carries a google.rpc.Status equal to the trailers, with an ErrorInfo, in grpc-status-details-bin', async () => {
    const token = await stack.token();
    const undecodable = Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    const calls: [string, string | undefined, Buffer | undefined][] = [
      ['/scalekit.v1.tools.ToolService/ListTools', undefined, undefined],
      ['/scalekit.v1.tools.ToolService/NoSuchMethod', undefined, undefined],
      // Refused while reading the request (grpc/unary.ts, as connect-node did), before authentication.
      ['/scalekit.v1.tools.ToolService/ListTools', `Bearer ${token}`, undecodable],
    ];
    for (const [path, authorization, body] of calls) {
      const answer = await rawCall(server.url, path, authorization, body);
      expect(answer['grpc-status']).not.toBe('0');
      expect(answer['grpc-status-details-bin'], JSON.stringify(answer)).toBeTruthy();
      // Decoded from grpc-status-details-bin alone (it is preferred over the other two).
      const decoded = findTrailerError(
        new Headers({ 'grpc-status-details-bin': answer['grpc-status-details-bin'] ?? '', 'grpc-status': '2' }),
      );
      expect(String(decoded?.code)).toBe(answer['grpc-status']);
      expect(decoded?.rawMessage).toBe(decodeURIComponent(answer['grpc-message'] ?? ''));
      expect(decoded?.findDetails(ErrorInfoSchema)[0]?.errorCode).toBeTruthy();
    }
  });

  it('lists the tools: all, by provider, scoped to an identifier, available to it', async () => {
    const all = await scalekit.tools.listTools({ pageSize: 500 });
    expect(all.totalSize).toBeGreaterThan(50);
    const fetchMails = all.tools.find((t) => t.id === 'gmail_fetch_mails');
    expect(fetchMails?.provider).toBe('GMAIL');
    expect((fetchMails?.definition as { input_schema?: { type: string } } | undefined)?.input_schema?.type).toBe(
      'object',
    );
    const summary = await scalekit.tools.listTools({ filter: { provider: 'googlecalendar', summary: true } });
    expect(summary.tools).toHaveLength(0);
    expect(summary.toolNames).toHaveLength(30);
    const unknown = await scalekit.tools.listAvailableTools('nobody-here').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ScalekitNotFoundException);
  });

  it('runs the seed: get-or-create, the authorization link through consent, john-doe’s mail, the tool list', async () => {
    const created = await scalekit.actions.getOrCreateConnectedAccount({
      connectionName: 'MY_GMAIL',
      identifier: 'john-doe',
    });
    const account = created.connectedAccount;
    expect(account?.status).toBe(3); // PENDING_AUTH
    expect(account?.authorizationType).toBe(1); // OAUTH
    expect(account?.connector).toBe('MY_GMAIL');
    expect(account?.lastUsedAt).toBeUndefined();
    expect(account?.tokenExpiresAt).toBeUndefined();

    const again = await scalekit.actions.getOrCreateConnectedAccount({
      connectionName: 'MY_GMAIL',
      identifier: 'john-doe',
    });
    expect(again.connectedAccount?.id).toBe(account?.id);

    const { link, expiry } = await scalekit.actions.getAuthorizationLink({
      connectionName: 'MY_GMAIL',
      identifier: 'john-doe',
    });
    expect(link).toMatch(/^http/);
    expect(expiry).toBeDefined();
    const done = await stack.consent(link, { email: 'john.doe@example.com' });
    expect(done.status).toBe(200);

    const active = await scalekit.actions.getConnectedAccount({ connectionName: 'MY_GMAIL', identifier: 'john-doe' });
    expect(active.connectedAccount?.status).toBe(1); // ACTIVE
    expect(active.connectedAccount?.tokenExpiresAt).toBeDefined();
    const details = active.connectedAccount?.authorizationDetails?.details;
    expect(details?.case === 'oauthToken' && details.value.domain).toBe('john.doe@example.com');
    expect(details?.case === 'oauthToken' && details.value.accessToken).toBe('');

    const mail = await scalekit.actions.executeTool({
      toolName: 'gmail_fetch_mails',
      toolInput: { max_results: 5 },
      identifier: 'john-doe',
      connector: 'MY_GMAIL',
    });
    expect(mail.executionId).toMatch(/^exec_/);
    const messages = (mail.data as { messages: unknown[] }).messages;
    expect(messages.length).toBeGreaterThan(0);

    await stack.services.callLog.flush();
    const row = await stack.db.db
      .selectFrom('tool_call_logs')
      .selectAll()
      .where('execution_id', '=', mail.executionId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ source: 'GRPC', status: 'SUCCESS', identifier: 'john-doe' });

    const scoped = await scalekit.tools.listScopedTools('john-doe', { filter: { connectionNames: ['MY_GMAIL'] } });
    expect(scoped.tools.length).toBeGreaterThan(0);
    expect(scoped.tools[0]?.connectedAccountId).toBe(account?.id);
    const available = await scalekit.tools.listAvailableTools('john-doe', { pageSize: 500 });
    expect(available.tools.every((t) => t.provider === 'GMAIL')).toBe(true);
    // The REST twin answers the same list: both call the domain's listAvailableTools.
    const rest = await stack.api<{ tools: { id: string }[]; total_size: number }>(
      'GET',
      '/api/v1/tools/available?identifier=john-doe&page_size=500',
    );
    expect(rest.body.tools.map((t) => t.id)).toEqual(available.tools.map((t) => t.id));
    expect(rest.body.total_size).toBe(available.totalSize);

    const listed = await scalekit.actions.listConnectedAccounts({ identifier: 'john-doe' });
    expect(listed.connectedAccounts.map((a) => a.id)).toEqual([account?.id]);
    expect(listed.connectedAccounts[0]?.status).toBe(1);
  });

  it('raises a provider failure as the SDK’s tool exception, with the execution id', async () => {
    const error = await scalekit.actions
      .executeTool({
        toolName: 'gmail_get_message_by_id',
        toolInput: { message_id: 'no-such-message' },
        identifier: 'john-doe',
        connector: 'MY_GMAIL',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScalekitToolException);
    const tool = error as ScalekitToolException;
    expect(tool.isToolError).toBe(true);
    expect(tool.toolErrorCode).toBe('provider_not_found');
    expect(tool.executionId).toMatch(/^exec_/);
  });

  it('fails invalid input and unknown accounts before the provider, with their own exceptions', async () => {
    const before = providerCalls.length;
    const invalid = await scalekit.actions
      .executeTool({
        toolName: 'gmail_fetch_mails',
        toolInput: { max_results: 'ten' },
        identifier: 'john-doe',
        connector: 'MY_GMAIL',
      })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ScalekitBadRequestException);
    expect((invalid as ScalekitBadRequestException).errorCode).toBe('tool_input_invalid');

    const unconnected = await scalekit.actions
      .executeTool({ toolName: 'gmail_fetch_mails', toolInput: {}, identifier: 'nobody', connector: 'MY_GMAIL' })
      .catch((e: unknown) => e);
    expect(unconnected).toBeInstanceOf(ScalekitBadRequestException);
    expect((unconnected as ScalekitBadRequestException).errorCode).toBe('account_not_connected');
    expect((unconnected as Error).message).toContain('http');
    // An account id beside another user's identifier is refused, not run on the id's account.
    const john = await stack.db.db
      .selectFrom('connected_accounts')
      .select('id')
      .where('identifier', '=', 'john-doe')
      .executeTakeFirstOrThrow();
    const crossed = await scalekit.actions
      .executeTool({
        toolName: 'gmail_fetch_mails',
        toolInput: {},
        connectedAccountId: john.id,
        identifier: 'nobody',
        connector: 'MY_GMAIL',
      })
      .catch((e: unknown) => e);
    expect(crossed).toBeInstanceOf(ScalekitBadRequestException);
    expect((crossed as ScalekitBadRequestException).errorCode).toBe('validation_failed');
    const missing = await scalekit.actions
      .getConnectedAccount({ connectionName: 'MY_GMAIL', identifier: 'never-seen' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ScalekitNotFoundException);
    expect(providerCalls.length).toBe(before);
  });

  it('logs the Python SDK’s retries of a failed call as attempts 2 and 3, never reaching the provider', async () => {
    const tools = grpcClient(ToolService, [bearer(() => stack.token())]);
    const before = providerCalls.length;
    const call = async (maxResults: string) => {
      const request = { toolName: 'gmail_fetch_mails', params: { max_results: maxResults } };
      const answer = await tools
        .executeTool({ ...request, identifier: 'john-doe', connector: 'MY_GMAIL' })
        .catch((e: unknown) => e);
      expect(answer).toBeInstanceOf(ConnectError);
      return answer as ConnectError;
    };
    // As grpc_exec does: the same request three times, then a different one.
    const failures = [await call('eleven'), await call('eleven'), await call('eleven'), await call('twelve')];
    expect(failures.map((f) => f.code)).toEqual(Array(4).fill(Code.InvalidArgument));
    expect(providerCalls.length).toBe(before);

    await stack.services.callLog.flush();
    const ids = failures.map((f) => f.findDetails(ErrorInfoSchema)[0]?.toolErrorInfo?.executionId ?? '');
    const rows = await stack.db.db
      .selectFrom('tool_call_logs')
      .select(['execution_id', 'attempt', 'source', 'error_code'])
      .where('execution_id', 'in', ids)
      .execute();
    const attempts = ids.map((id) => rows.find((row) => row.execution_id === id)?.attempt);
    expect(attempts).toEqual([1, 2, 3, 1]);
    expect(rows.every((row) => row.source === 'GRPC' && row.error_code === 'tool_input_invalid')).toBe(true);
  });

  it('creates with tokens, updates, and deletes a connected account', async () => {
    const created = await scalekit.actions.createConnectedAccount({
      connectionName: 'MY_CALENDAR',
      identifier: 'jane-doe',
      authorizationDetails: oauthDetails({ accessToken: 'given-access', refreshToken: 'given-refresh' }),
    });
    expect(created.connectedAccount?.status).toBe(1);
    const updated = await scalekit.actions.updateConnectedAccount({
      connectionName: 'MY_CALENDAR',
      identifier: 'jane-doe',
      authorizationDetails: oauthDetails({ accessToken: 'newer-access' }),
    });
    expect(updated.connectedAccount?.id).toBe(created.connectedAccount?.id);
    await scalekit.actions.deleteConnectedAccount({ connectionName: 'MY_CALENDAR', identifier: 'jane-doe' });
    const gone = await scalekit.actions
      .getConnectedAccount({ connectionName: 'MY_CALENDAR', identifier: 'jane-doe' })
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ScalekitNotFoundException);
  });

  it('verifies the user of a consent through VerifyConnectedAccountUser (unknown request: not found)', async () => {
    const error = await scalekit.actions
      .verifyConnectedAccountUser({ authRequestId: 'no-such-request', identifier: 'john-doe' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScalekitNotFoundException);
  });

  it('runs the MCP seed through gRPC: config, ensure instance, auth state with links, consent, tools/call', async () => {
    const mcp = grpcClient(McpService, [bearer(() => stack.token())]);
    const { config } = await mcp.createMcpConfig({
      config: {
        name: 'reminder-manager',
        description: 'mail and reminders',
        connectionToolMappings: [
          { connectionName: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
          { connectionName: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
        ],
      },
    });
    expect(config?.connectionToolMappings).toHaveLength(2);

    const { instance } = await mcp.ensureMcpInstance({ configName: 'reminder-manager', userIdentifier: 'mcp-user' });
    expect(instance?.url).toMatch(/^http/);
    expect(instance?.lastUsedAt).toBeUndefined();
    const again = await mcp.ensureMcpInstance({ configName: 'reminder-manager', userIdentifier: 'mcp-user' });
    expect(again.instance?.id).toBe(instance?.id);

    const state = await mcp.getMcpInstanceAuthState({ instanceId: instance?.id ?? '', includeAuthLinks: true });
    expect(state.connections.map((c) => c.connectedAccountStatus)).toEqual(['PENDING_AUTH', 'PENDING_AUTH']);
    for (const connection of state.connections) {
      const done = await stack.consent(connection.authenticationLink, { email: 'john.doe@example.com' });
      expect(done.status, await done.clone().text()).toBe(200);
    }
    const after = await mcp.getMcpInstanceAuthState({ instanceId: instance?.id ?? '' });
    expect(after.connections.map((c) => c.connectedAccountStatus)).toEqual(['ACTIVE', 'ACTIVE']);

    const client = new Client({ name: 'grpc-seed', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(instance?.url ?? ''), { fetch: stack.fetch }));
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'gmail_fetch_mails',
      'googlecalendar_create_event',
    ]);
    const result = await client.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect(result.isError).toBeFalsy();
    await client.close();

    const listed = await mcp.listMcpInstances({ filter: { userIdentifier: 'mcp-user' } });
    expect(listed.instances.map((i) => i.id)).toEqual([instance?.id]);
    await mcp.deleteMcpInstance({ instanceId: instance?.id ?? '' });
    const gone = await mcp.getMcpInstance({ instanceId: instance?.id ?? '' }).catch((e: unknown) => e);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
    expect(errorInfoOf(gone)?.errorCode).toBe('not_found');
  });
});
