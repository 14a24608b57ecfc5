import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, type ErrorCode, ProviderError } from '../src/errors.js';
import { type ExecuteRequest, type ExecuteResult, ToolExecutor } from '../src/execution/executor.js';
import type { ToolExecutionError } from '../src/execution/tool-execution-error.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { createCatalog, providers } from '../src/providers/index.js';
import type { ToolDefinition } from '../src/providers/types.js';
import { type Stack, startStack } from './support/index.js';

/**
 * The executor's rules, called directly on a real database with the sandbox as Google: which
 * failure each step gives (with its message), when a failure carries a link or a
 * re-authorization hint, what the result may weigh, the in-flight slots, and the one
 * tool_call_logs row and metric of every call.
 */

const READONLY = 'https://www.googleapis.com/auth/gmail.readonly';
const MODIFY = 'https://www.googleapis.com/auth/gmail.modify';
/** The executor's own clock: the tools' `now` and the log rows' time. */
const NOW = Date.UTC(2026, 2, 2, 15, 0, 0);
const MAX_RESULT_BYTES = 1024;

type Failure = { code: ErrorCode; message: string; details?: Record<string, unknown>; provider?: boolean };

/** What the test tools saw of their context. */
const contexts: { signal: AbortSignal; now: number }[] = [];
/** Set while `test_waits` runs: lets it finish. */
let releaseWaiting: (() => void) | undefined;

const testTool = (
  name: string,
  input: z.ZodType,
  run: (input: never, ctx: Parameters<ToolDefinition['run']>[1]) => Promise<unknown>,
  scopes = [MODIFY],
): ToolDefinition => ({
  name,
  description: 'a test tool',
  input,
  annotations: {} as ToolDefinition['annotations'],
  scopes,
  run: run as ToolDefinition['run'],
});

/** Tools added to Gmail for these tests: they fail, crash, wait or return what they are told. */
const TEST_TOOLS: ToolDefinition[] = [
  testTool(
    'test_returns',
    z.object({ value: z.unknown().optional(), kind: z.string().optional() }),
    async (input: { value?: unknown; kind?: string }) => (input.kind === 'function' ? () => 1 : input.value),
  ),
  testTool(
    'test_fails',
    z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      provider: z.boolean().optional(),
    }),
    async (input: Failure) => {
      const Kind = input.provider ? ProviderError : AppError;
      throw new Kind(input.code, input.message, input.details ? { details: input.details } : {});
    },
  ),
  testTool(
    'test_fails_without_scopes',
    z.object({}),
    async () => {
      throw new ProviderError('insufficient_scope', 'Request had insufficient authentication scopes.');
    },
    [],
  ),
  testTool('test_crashes', z.object({}), async () => {
    throw new Error('boom with Bearer ya29.leaked-token');
  }),
  testTool('test_context', z.object({}), async (_input, ctx) => {
    contexts.push({ signal: ctx.signal, now: ctx.now() });
    return { ok: true };
  }),
  testTool('test_waits', z.object({}), async () => {
    await new Promise<void>((resolve) => {
      releaseWaiting = resolve;
    });
    return { waited: true };
  }),
  testTool('test_needs_no_scope', z.object({}), async () => ({ ran: true }), []),
];

describe('the tool executor (executor.ts), called directly', () => {
  let stack: Stack;
  /** The executor under test: the catalog plus TEST_TOOLS, a 1 KiB result limit, one call per user at a time. */
  let executor: ToolExecutor;
  let metrics: Metrics;
  const logLines: Record<string, unknown>[] = [];
  const ids = { gmail: '', readonly: '', john: '', jane: '', johnReadonly: '' };

  const build = (overrides: { tracing?: boolean } = {}) => {
    const { services } = stack;
    metrics = new Metrics();
    return new ToolExecutor({
      ...services,
      providerTransport: services.providerTransport ?? services.fetch,
      catalog: createCatalog(
        providers.map((provider) =>
          provider.name === 'gmail' ? { ...provider, tools: [...provider.tools, ...TEST_TOOLS] } : provider,
        ),
      ),
      config: {
        ...services.config,
        toolCalls: { maxInFlight: 64, maxInFlightPerUser: 1, maxResultBytes: MAX_RESULT_BYTES },
        tracing: { ...services.config.tracing, enabled: overrides.tracing ?? false },
      },
      clock: { now: () => NOW },
      logger: createLogger(
        'error',
        new Writable({
          write(chunk, _encoding, done) {
            logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
            done();
          },
        }),
      ),
      metrics,
    });
  };

  beforeAll(async () => {
    stack = await startStack();
    ids.gmail = (await stack.createConnection('MY_GMAIL', 'gmail')).id as string;
    ids.readonly = (
      await stack.createConnection('READONLY_GMAIL', 'gmail', {
        scopes: [READONLY],
        oauth_client_id: 'readonly-app',
        target: 'sandbox',
      })
    ).id as string;
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    ids.john = await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    ids.jane = await stack.connectAccount('MY_GMAIL', 'jane-doe', 'jane.doe@example.com');
    ids.johnReadonly = await stack.connectAccount('READONLY_GMAIL', 'john-doe', 'john.doe@example.com');
    executor = build();
  });
  afterAll(() => stack?.close());

  const john = { connector: 'MY_GMAIL', identifier: 'john-doe' };
  const run = (toolName: string, params: unknown, extra: Partial<ExecuteRequest> = {}) =>
    executor.execute({ toolName, params, account: john, source: 'API', ...extra });
  const failureOf = (promise: Promise<ExecuteResult>) =>
    promise.then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
      },
      (error: unknown) => error as ToolExecutionError,
    );
  /** What the agent sees of a failure, and the class of the failure it wraps. */
  const seen = (error: ToolExecutionError) => ({
    code: error.code,
    message: error.message,
    details: error.details,
    wraps: (error.cause as Error).constructor.name,
  });
  const logRow = async (executionId: string) => {
    await stack.services.callLog.flush();
    return stack.db.db
      .selectFrom('tool_call_logs')
      .selectAll()
      .where('execution_id', '=', executionId)
      .executeTakeFirstOrThrow();
  };
  const accountRow = (id: string) =>
    stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const callsCounted = async () =>
    (await metrics.registry.getSingleMetric('switchboard_tool_calls_total')?.get())?.values.map((v) => ({
      ...v.labels,
      value: v.value,
    }));
  const linkPattern = () => new RegExp(`^${stack.url}/connect/[A-Za-z0-9_-]+$`);

  describe('a call that succeeds', () => {
    it("runs the tool with the account's token and logs one SUCCESS row, with the caller's source, attempt and instance", async () => {
      const result = await run(
        'gmail_get_profile',
        { ignored: 'x' },
        { source: 'MCP', instanceId: 'mi_1', attempt: 3 },
      );
      expect(result.data).toMatchObject({ emailAddress: 'john.doe@example.com' });
      expect(result.json).toBe(JSON.stringify(result.data));
      expect(result.executionId).toMatch(/^exec_[A-Za-z0-9_-]+$/);
      const row = await logRow(result.executionId);
      expect(row).toEqual({
        id: expect.stringMatching(/^tcl_/),
        execution_id: result.executionId,
        tool_name: 'gmail_get_profile',
        provider: 'gmail',
        connection_id: ids.gmail,
        connection_name: 'MY_GMAIL',
        connected_account_id: ids.john,
        identifier: 'john-doe',
        status: 'SUCCESS',
        error_code: null,
        error_message: null,
        argument_summary: '{"ignored":"x"}',
        duration_ms: expect.any(Number),
        source: 'MCP',
        attempt: 3,
        instance_id: 'mi_1',
        created_at: new Date(NOW).toISOString(),
      });
      expect(Number.isInteger(row.duration_ms)).toBe(true);
      expect(row.duration_ms).toBeLessThan(5_000);
      expect(await callsCounted()).toEqual([
        { tool: 'gmail_get_profile', provider: 'gmail', source: 'MCP', outcome: 'success', value: 1 },
      ]);
      const providerTime = await metrics.registry.getSingleMetric('switchboard_tool_call_provider_seconds')?.get();
      const counted = providerTime?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
      expect(counted).toMatchObject({
        labels: { provider: 'gmail' },
        value: 1,
      });
    });

    it('finds the account by its id, defaults attempt to 1 and instance to none, and marks the account used', async () => {
      const before = (await accountRow(ids.jane)).last_used_at;
      const result = await executor.execute({
        toolName: 'gmail_get_profile',
        params: undefined,
        account: { connectedAccountId: ids.jane },
        source: 'GRPC',
      });
      expect(result.data).toMatchObject({ emailAddress: 'jane.doe@example.com' });
      expect(await logRow(result.executionId)).toMatchObject({
        connection_name: 'MY_GMAIL',
        connected_account_id: ids.jane,
        identifier: 'jane-doe',
        argument_summary: null,
        source: 'GRPC',
        attempt: 1,
        instance_id: null,
      });
      await stack.services.usage.flush();
      expect(before).toBeNull();
      expect((await accountRow(ids.jane)).last_used_at).not.toBeNull();
    });

    it('gives the tool the call’s signal (or one of its own) and the executor’s clock', async () => {
      const controller = new AbortController();
      await run('test_context', {}, { signal: controller.signal });
      await run('test_context', {});
      expect(contexts.map((c) => c.now)).toEqual([NOW, NOW]);
      expect(contexts[0]?.signal).toBe(controller.signal);
      expect(contexts[1]?.signal).toBeInstanceOf(AbortSignal);
      expect(contexts[1]?.signal).not.toBe(controller.signal);
      expect(contexts[1]?.signal.aborted).toBe(false);
    });

    it('answers {} for a tool that returns nothing or something JSON cannot say', async () => {
      const nothing = await run('test_returns', {});
      expect([nothing.data, nothing.json]).toEqual([{}, '{}']);
      const fn = await run('test_returns', { kind: 'function' });
      expect(fn.json).toBe('{}');
    });

    it('runs without metrics when given none', async () => {
      const { services } = stack;
      const bare = new ToolExecutor({
        ...services,
        providerTransport: services.providerTransport ?? services.fetch,
        metrics: undefined,
      });
      await expect(
        bare.execute({ toolName: 'gmail_get_profile', params: {}, account: john, source: 'API' }),
      ).resolves.toMatchObject({
        data: { emailAddress: 'john.doe@example.com' },
      });
    });

    it('runs the same way with tracing on', async () => {
      const traced = build({ tracing: true });
      const result = await traced.execute({
        toolName: 'test_returns',
        params: { value: [1] },
        account: john,
        source: 'API',
      });
      expect(result.json).toBe('[1]');
      const unknown = await failureOf(traced.execute({ toolName: 'nope', params: {}, account: john, source: 'API' }));
      expect(unknown.code).toBe('tool_not_found');
      executor = build();
    });
  });

  describe('the size of a result', () => {
    it(`sends a result of exactly ${MAX_RESULT_BYTES} bytes and refuses one byte more, whole, saying how to ask for less`, async () => {
      // {"value":"…"} is 12 bytes around the text.
      const fits = await run('test_returns', { value: { value: 'x'.repeat(MAX_RESULT_BYTES - 12) } });
      expect(Buffer.byteLength(fits.json)).toBe(MAX_RESULT_BYTES);
      const over = await failureOf(run('test_returns', { value: { value: 'x'.repeat(MAX_RESULT_BYTES - 11) } }));
      expect(seen(over)).toEqual({
        code: 'tool_result_too_large',
        message:
          "the result of test_returns is 1025 bytes, over this server's limit of 1024 bytes; ask for less (fewer or smaller items, a narrower query)",
        details: { result_bytes: 1025, max_result_bytes: 1024 },
        wraps: 'AppError',
      });
      expect(await logRow(over.executionId)).toMatchObject({ status: 'FAILED', error_code: 'tool_result_too_large' });
    });

    it('counts UTF-8 bytes, not characters', async () => {
      // 400 euro signs: 412 characters of JSON, 1212 bytes.
      const over = await failureOf(run('test_returns', { value: { value: '€'.repeat(400) } }));
      expect(over.details).toEqual({ result_bytes: 1212, max_result_bytes: 1024 });
      const fits = await run('test_returns', { value: { value: '€'.repeat(337) } });
      expect(Buffer.byteLength(fits.json)).toBe(1023);
    });
  });

  describe('a call that fails before the provider', () => {
    it('names an unknown tool, and logs what the caller sent, cut to 200 characters', async () => {
      const error = await failureOf(run('gmail_teleport', { a: 1 }));
      expect(seen(error)).toEqual({
        code: 'tool_not_found',
        message: 'there is no tool named gmail_teleport',
        details: undefined,
        wraps: 'AppError',
      });
      expect(await logRow(error.executionId)).toMatchObject({
        tool_name: 'gmail_teleport',
        provider: null,
        connection_id: null,
        connection_name: 'MY_GMAIL',
        connected_account_id: null,
        identifier: 'john-doe',
        status: 'FAILED',
        error_code: 'tool_not_found',
        error_message: 'there is no tool named gmail_teleport',
        argument_summary: '{"a":1}',
      });
      expect(await callsCounted()).toContainEqual({
        tool: 'unknown',
        provider: 'unknown',
        source: 'API',
        outcome: 'tool_not_found',
        value: 1,
      });

      const long = await failureOf(
        executor.execute({
          toolName: 'x'.repeat(250),
          params: {},
          account: { connectedAccountId: ids.john },
          source: 'API',
        }),
      );
      expect(await logRow(long.executionId)).toMatchObject({
        tool_name: 'x'.repeat(200),
        connection_name: null,
        identifier: null,
      });
    });

    it('names the invalid field of a tool input', async () => {
      const error = await failureOf(run('gmail_fetch_mails', { max_results: 'ten' }));
      expect(error.code).toBe('tool_input_invalid');
      expect(error.message).toContain('max_results');
      expect(await logRow(error.executionId)).toMatchObject({
        provider: 'gmail',
        connection_id: null,
        error_code: 'tool_input_invalid',
      });
    });

    it('answers not_found for an unknown account id or connection', async () => {
      const byId = await failureOf(
        executor.execute({
          toolName: 'gmail_get_profile',
          params: {},
          account: { connectedAccountId: 'ca_nope' },
          source: 'API',
        }),
      );
      expect([byId.code, byId.message]).toEqual(['not_found', 'connected account ca_nope not found']);
      const byName = await failureOf(run('gmail_get_profile', {}, { account: { connector: 'NOPE', identifier: 'x' } }));
      expect([byName.code, byName.message]).toEqual(['not_found', 'connection NOPE not found']);
      expect(await logRow(byName.executionId)).toMatchObject({ connection_id: null, connection_name: 'NOPE' });
    });

    it("refuses a tool of another provider than the connection's, and creates no account for it", async () => {
      const known = await failureOf(run('googlecalendar_list_calendars', {}));
      expect([known.code, known.message]).toEqual([
        'validation_failed',
        'tool googlecalendar_list_calendars belongs to googlecalendar, but connection MY_GMAIL is gmail',
      ]);
      const unknown = await failureOf(
        run('googlecalendar_list_calendars', {}, { account: { connector: 'MY_GMAIL', identifier: 'wrong-tool-user' } }),
      );
      expect(unknown.code).toBe('validation_failed');
      expect(await logRow(unknown.executionId)).toMatchObject({ connection_id: ids.gmail, connected_account_id: null });
      const created = await stack.db.db
        .selectFrom('connected_accounts')
        .select('id')
        .where('identifier', '=', 'wrong-tool-user')
        .execute();
      expect(created).toEqual([]);
    });
  });

  describe('an account that cannot run the call', () => {
    it('answers a user who never connected with account_not_connected and one link, redacted in the log', async () => {
      const error = await failureOf(
        run('gmail_get_profile', {}, { account: { connector: 'MY_GMAIL', identifier: 'new-user' } }),
      );
      const link = error.details?.authentication_link as string;
      expect(link).toMatch(linkPattern());
      expect(seen(error)).toEqual({
        code: 'account_not_connected',
        message: `new-user has not connected MY_GMAIL yet. Ask the user to open this link to connect MY_GMAIL: ${link}`,
        details: { connection_name: 'MY_GMAIL', authentication_link: link, link_expiry: expect.any(String) },
        wraps: 'AppError',
      });
      const account = await stack.db.db
        .selectFrom('connected_accounts')
        .selectAll()
        .where('identifier', '=', 'new-user')
        .executeTakeFirstOrThrow();
      const links = await stack.db.db
        .selectFrom('auth_links')
        .selectAll()
        .where('connected_account_id', '=', account.id)
        .execute();
      expect(links.map((l) => [l.expires_at, l.extra_scopes, l.revoked_at])).toEqual([
        [error.details?.link_expiry, null, null],
      ]);
      const issued = await stack.db.db
        .selectFrom('account_events')
        .select('detail')
        .where('connected_account_id', '=', account.id)
        .where('type', '=', 'account.link_issued')
        .execute();
      expect(issued.map((event) => JSON.parse(event.detail).source)).toEqual(['tool_error']);
      expect(await logRow(error.executionId)).toMatchObject({
        connection_id: ids.gmail,
        connected_account_id: null,
        identifier: 'new-user',
        error_message: `new-user has not connected MY_GMAIL yet. Ask the user to open this link to connect MY_GMAIL: ${stack.url}/connect/[redacted]`,
      });
    });

    it('keeps every link of a retried or parallel call usable until one of them connects the account', async () => {
      const retrying = { connector: 'MY_GMAIL', identifier: 'retrying-user' };
      const [first, second] = await Promise.all([
        failureOf(run('gmail_get_profile', {}, { account: retrying })),
        failureOf(run('gmail_get_profile', {}, { account: retrying })),
      ]);
      const third = await failureOf(run('gmail_get_profile', {}, { account: retrying, attempt: 2 }));
      const links = [first, second, third].map((error) => error.details?.authentication_link as string);
      expect(new Set(links).size).toBe(3);
      // The user opens the first link the agent passed on; the calls after it did not void it.
      expect((await stack.consent(links[0] ?? '')).status).toBe(200);
      expect((await stack.fetch(links[2] ?? '', { redirect: 'manual' })).status).toBe(410);
      expect((await run('gmail_get_profile', {}, { account: retrying })).data).toMatchObject({
        emailAddress: 'john.doe@example.com',
      });
    });

    it("asks in the link for the scopes the caller's mapped tools need beyond the connection's", async () => {
      const error = await failureOf(
        run(
          'gmail_get_profile',
          {},
          {
            account: { connector: 'READONLY_GMAIL', identifier: 'mapped-user' },
            mappedTools: ['gmail_send_message'],
          },
        ),
      );
      const link = await stack.db.db
        .selectFrom('auth_links as l')
        .innerJoin('connected_accounts as a', 'a.id', 'l.connected_account_id')
        .select('l.extra_scopes')
        .where('a.identifier', '=', 'mapped-user')
        .executeTakeFirstOrThrow();
      expect(error.code).toBe('account_not_connected');
      expect(JSON.parse(link.extra_scopes ?? '[]')).not.toEqual([]);
      expect(JSON.parse(link.extra_scopes ?? '[]')).not.toContain(READONLY);
    });

    it('gives no link when there is no identifier to issue it for', async () => {
      const error = await failureOf(
        run('gmail_get_profile', {}, { account: { connector: 'MY_GMAIL', identifier: '' } }),
      );
      expect(seen(error)).toEqual({
        code: 'account_not_connected',
        message: ' has not connected MY_GMAIL yet',
        details: undefined,
        wraps: 'AppError',
      });
    });

    it('adds a link to an account failure from the run, keeping its kind and details', async () => {
      const expired = await failureOf(
        run('test_fails', {
          code: 'account_expired',
          message: 'gone',
          details: { provider_status: 401 },
          provider: true,
        }),
      );
      const link = expired.details?.authentication_link as string;
      expect(link).toMatch(linkPattern());
      expect(seen(expired)).toEqual({
        code: 'account_expired',
        message: `gone. Ask the user to open this link to connect MY_GMAIL: ${link}`,
        details: {
          provider_status: 401,
          connection_name: 'MY_GMAIL',
          authentication_link: link,
          link_expiry: expect.any(String),
        },
        wraps: 'ProviderError',
      });
      const disconnected = await failureOf(run('test_fails', { code: 'account_disconnected', message: 'left' }));
      expect(seen(disconnected)).toMatchObject({ code: 'account_disconnected', wraps: 'AppError' });
      expect(disconnected.message).toMatch(/^left\. Ask the user to open this link to connect MY_GMAIL: /);
    });

    it('keeps a failure that already carries a link, and adds none to other failures', async () => {
      const linked = await failureOf(
        run('test_fails', { code: 'account_expired', message: 'x', details: { authentication_link: 'http://given' } }),
      );
      expect(seen(linked)).toEqual({
        code: 'account_expired',
        message: 'x',
        details: { authentication_link: 'http://given' },
        wraps: 'AppError',
      });
      const other = await failureOf(
        run('test_fails', { code: 'provider_unavailable', message: 'down', provider: true }),
      );
      expect(seen(other)).toEqual({
        code: 'provider_unavailable',
        message: 'down',
        details: undefined,
        wraps: 'ProviderError',
      });
    });

    it('turns a revoked grant into account_expired with a link, after one refresh attempt', async () => {
      const id = await stack.connectAccount('MY_GMAIL', 'revoked-user', 'mei.tanaka@example.com');
      const user = stack.sandbox.state.findUser('mei.tanaka@example.com');
      if (!user) throw new Error('seeded user missing');
      stack.sandbox.state.oauth.revokeGrantOf(user);
      const error = await failureOf(
        run('gmail_get_profile', {}, { account: { connector: 'MY_GMAIL', identifier: 'revoked-user' } }),
      );
      expect(error.code).toBe('account_expired');
      expect(error.details?.authentication_link).toMatch(linkPattern());
      expect(await logRow(error.executionId)).toMatchObject({
        connected_account_id: id,
        error_code: 'account_expired',
      });
      expect((await accountRow(id)).status).toBe('EXPIRED');
    });
  });

  describe('missing scopes', () => {
    const sendParams = { to: 'a@example.com', subject: 's', body: 'b' };

    it('refuses a tool whose scopes the account did not grant, before the provider, with no link', async () => {
      const readonly = { connector: 'READONLY_GMAIL', identifier: 'john-doe' };
      const granted = JSON.parse((await accountRow(ids.johnReadonly)).granted_scopes) as string[];
      const tool = executor.tool('gmail_send_message').tool;
      const error = await failureOf(run('gmail_send_message', sendParams, { account: readonly }));
      expect(seen(error)).toEqual({
        code: 'insufficient_scope',
        message: `gmail_send_message needs one of these scopes, which the user did not grant: ${tool.scopes.join(', ')}. The user has not granted ${tool.scopes.join(' or ')} on READONLY_GMAIL: ask the user to re-authorize READONLY_GMAIL through your app (the instance's auth state with include_auth_links gives a link that asks for the missing scopes).`,
        details: { required_scopes: tool.scopes, granted_scopes: granted, connection_name: 'READONLY_GMAIL' },
        wraps: 'AppError',
      });
      const links = await stack.db.db
        .selectFrom('auth_links')
        .select('id')
        .where('connected_account_id', '=', ids.johnReadonly)
        .where('used_at', 'is', null)
        .execute();
      expect(links).toEqual([]);
      // A tool that needs no scope runs.
      await expect(run('test_needs_no_scope', {}, { account: readonly })).resolves.toMatchObject({
        json: '{"ran":true}',
      });
    });

    it("names the tool's scopes when the provider refuses for a missing scope, or the scopes it named", async () => {
      const tool = executor.tool('test_fails').tool;
      const bare = await failureOf(run('test_fails', { code: 'insufficient_scope', message: 'No.', provider: true }));
      expect(seen(bare)).toEqual({
        code: 'insufficient_scope',
        message: `No.. The user has not granted ${tool.scopes.join(' or ')} on MY_GMAIL: ask the user to re-authorize MY_GMAIL through your app (the instance's auth state with include_auth_links gives a link that asks for the missing scopes).`,
        details: { connection_name: 'MY_GMAIL', required_scopes: tool.scopes },
        wraps: 'ProviderError',
      });
      const named = await failureOf(
        run('test_fails', { code: 'insufficient_scope', message: 'No', details: { required_scopes: ['s1', 's2'] } }),
      );
      expect(named.message).toMatch(/^No\. The user has not granted s1 or s2 on MY_GMAIL: /);
      expect(seen(named)).toMatchObject({ details: { required_scopes: ['s1', 's2'] }, wraps: 'AppError' });
      const none = await failureOf(run('test_fails_without_scopes', {}));
      expect(none.message).toMatch(
        /^Request had insufficient authentication scopes\.\. The user has not granted the scope this tool needs on MY_GMAIL: /,
      );
    });
  });

  describe("the caller's prefetched rows", () => {
    const prefetched = async (connectionId: string, accountId: string, change: Record<string, unknown> = {}) => ({
      account: { ...(await accountRow(accountId)), ...change },
      connection: await stack.db.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', connectionId)
        .executeTakeFirstOrThrow(),
    });

    it('uses them for the account they name, as read for this call', async () => {
      const readonlyGrant = JSON.stringify([READONLY]);
      const rows = await prefetched(ids.gmail, ids.john, { granted_scopes: readonlyGrant });
      const refused = await failureOf(
        run('gmail_send_message', { to: 'a@b.c', subject: 's', body: 'b' }, { prefetched: rows }),
      );
      expect(refused.code).toBe('insufficient_scope');

      // Granted nothing said: the provider decides.
      const silent = await prefetched(ids.gmail, ids.john, { granted_scopes: '[]' });
      await expect(run('gmail_get_profile', {}, { prefetched: silent })).resolves.toBeTruthy();

      // Not ACTIVE: the account's status answers, not its scopes; the vault is given this row.
      const expired = await prefetched(ids.gmail, ids.john, { status: 'EXPIRED', granted_scopes: readonlyGrant });
      const error = await failureOf(
        run('gmail_send_message', { to: 'a@b.c', subject: 's', body: 'b' }, { prefetched: expired }),
      );
      expect(error.code).toBe('account_expired');
      expect(error.message).toMatch(
        /^the connected account MY_GMAIL for john-doe has expired and must be re-authorized\. Ask the user to open this link/,
      );
      expect((await accountRow(ids.john)).status).toBe('ACTIVE');
    });

    it('ignores them for another identifier, another connection, or a call by account id', async () => {
      const expired = await prefetched(ids.gmail, ids.john, { status: 'EXPIRED' });
      await expect(
        run(
          'gmail_get_profile',
          {},
          { prefetched: expired, account: { connector: 'MY_GMAIL', identifier: 'jane-doe' } },
        ),
      ).resolves.toMatchObject({ data: { emailAddress: 'jane.doe@example.com' } });
      const otherConnection = await prefetched(ids.readonly, ids.johnReadonly, { status: 'EXPIRED' });
      await expect(run('gmail_get_profile', {}, { prefetched: otherConnection })).resolves.toBeTruthy();
      await expect(
        run('gmail_get_profile', {}, { prefetched: expired, account: { connectedAccountId: ids.john } }),
      ).resolves.toBeTruthy();
    });
  });

  describe('a crash and the in-flight slots', () => {
    it('answers a crash as internal without its message, and logs it for the operator', async () => {
      const error = await failureOf(run('test_crashes', {}));
      expect(seen(error)).toEqual({
        code: 'internal',
        message: 'the tool failed unexpectedly',
        details: undefined,
        wraps: 'AppError',
      });
      expect(await logRow(error.executionId)).toMatchObject({
        error_code: 'internal',
        error_message: 'the tool failed unexpectedly',
      });
      expect(logLines.at(-1)).toMatchObject({
        msg: 'tool crashed',
        tool: 'test_crashes',
        executionId: error.executionId,
        err: { message: 'boom with Bearer ya29.leaked-token' },
      });
      expect(await callsCounted()).toContainEqual(
        expect.objectContaining({ tool: 'test_crashes', outcome: 'internal' }),
      );
    });

    it('frees the slot after every call, and refuses a second call of the same user meanwhile', async () => {
      await run('test_returns', {});
      await failureOf(run('test_crashes', {}));
      await failureOf(run('test_returns', { value: 'x'.repeat(2_000) }));
      await expect(run('test_returns', { value: 1 })).resolves.toMatchObject({ json: '1' });

      const waiting = run('test_waits', {});
      while (!releaseWaiting) await new Promise((resolve) => setTimeout(resolve, 5));
      const refused = await failureOf(run('test_returns', {}));
      expect([refused.code, refused.message]).toEqual([
        'rate_limited',
        'john-doe already has 1 tool calls running (at most 1 at once); retry when one has finished',
      ]);
      await expect(
        run('test_returns', { value: 2 }, { account: { connector: 'MY_GMAIL', identifier: 'jane-doe' } }),
      ).resolves.toMatchObject({ json: '2' });
      releaseWaiting();
      releaseWaiting = undefined;
      await expect(waiting).resolves.toMatchObject({ json: '{"waited":true}' });
    });
  });

  describe('provider failures', () => {
    it('passes on what the provider edge says, and logs it', async () => {
      stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 500, times: 10 });
      try {
        const error = await failureOf(run('gmail_get_profile', {}));
        expect(seen(error)).toMatchObject({ code: 'provider_unavailable', wraps: 'ProviderError' });
        expect(error.details).toMatchObject({ provider_status: 500, attempts: 3 });
        expect(await logRow(error.executionId)).toMatchObject({
          error_code: 'provider_unavailable',
          connected_account_id: ids.john,
        });
      } finally {
        stack.sandbox.state.faults.clear();
      }
    });
  });
});
