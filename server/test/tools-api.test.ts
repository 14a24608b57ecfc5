import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

type ToolError = { error: { code: string; message: string; details?: Record<string, unknown> }; execution_id: string };

describe('the tools REST API and the execution engine', () => {
  let stack: Stack;
  let johnToken = '';
  beforeAll(async () => {
    stack = await startStack({ env: { SWITCHBOARD_PROVIDER_TIMEOUT_MS: '1000' } });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    // Its own OAuth app: Google merges scopes granted earlier to the same app (include_granted_scopes).
    await stack.createConnection('READONLY_GMAIL', 'gmail', {
      scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      oauth_client_id: 'readonly-app',
      target: 'sandbox',
    });
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('MY_GMAIL', 'jane-doe', 'jane.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'john-doe', 'john.doe@example.com');
    await stack.connectAccount('READONLY_GMAIL', 'john-doe', 'john.doe@example.com');
    const row = await stack.db.db
      .selectFrom('connected_accounts as a')
      .innerJoin('connections as c', 'c.id', 'a.connection_id')
      .selectAll('a')
      .where('c.name', '=', 'MY_GMAIL')
      .where('a.identifier', '=', 'john-doe')
      .executeTakeFirstOrThrow();
    johnToken = stack.services.vault.openTokens(row)?.access_token ?? '';
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sandbox.state.faults.clear());

  const execute = (tool: string, params: Record<string, unknown>, identifier = 'john-doe', connector = 'MY_GMAIL') =>
    stack.api<{ data: Record<string, unknown>; execution_id: string } & Partial<ToolError>>(
      'POST',
      '/api/v1/execute_tool',
      {
        tool_name: tool,
        connector,
        identifier,
        params,
      },
    );

  it('lists the catalog with JSON Schemas, filtered by provider, name and text', async () => {
    const all = await stack.api<{
      tools: { definition: { name: string; input_schema: { type: string } } }[];
      total_size: number;
    }>('GET', '/api/v1/tools?page_size=500');
    expect(all.status).toBe(200);
    expect(all.body.total_size).toBe(86);
    const fetchMails = all.body.tools.find((t) => t.definition.name === 'gmail_fetch_mails');
    expect(fetchMails?.definition.input_schema.type).toBe('object');

    const calendar = await stack.api<{ tool_names: string[]; tools: unknown[] }>(
      'GET',
      '/api/v1/tools?filter.provider=googlecalendar&filter.summary=true&page_size=500',
    );
    expect(calendar.body.tool_names).toHaveLength(30);
    expect(calendar.body.tools).toHaveLength(0);

    const named = await stack.api<{ tool_names: string[] }>(
      'GET',
      '/api/v1/tools?filter.tool_name=gmail_fetch_mails&filter.tool_name=googlecalendar_create_event',
    );
    expect(named.body.tool_names.sort()).toEqual(['gmail_fetch_mails', 'googlecalendar_create_event']);

    const byConnector = await stack.api<{ total_size: number }>('GET', '/api/v1/tools?filter.connector=MY_CALENDAR');
    expect(byConnector.body.total_size).toBe(30);

    const paged = await stack.api<{ tools: unknown[]; next_page_token: string }>('GET', '/api/v1/tools?page_size=10');
    expect(paged.body.tools).toHaveLength(10);
    const next = await stack.api<{ tools: unknown[]; prev_page_token: string }>(
      'GET',
      `/api/v1/tools?page_size=10&page_token=${paged.body.next_page_token}`,
    );
    expect(next.body.tools).toHaveLength(10);
    expect(next.body.prev_page_token).toBeTruthy();
  });

  it('lists the tools scoped to an identifier, only for its ACTIVE accounts', async () => {
    const scoped = await stack.api<{
      tools: { connected_account_id: string; tool: { definition: { name: string } } }[];
      total_size: number;
    }>('GET', '/api/v1/tools/scoped?identifier=jane-doe&page_size=500');
    expect(scoped.body.total_size).toBe(56);
    const missing = await stack.api<ToolError>('GET', '/api/v1/tools/scoped');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('identifier');
  });

  it('executes a tool and returns data with an execution id, logged without secrets', async () => {
    const result = await execute('gmail_get_profile', {});
    expect(result.status).toBe(200);
    expect(result.body.data.emailAddress).toBe('john.doe@example.com');
    expect(result.body.execution_id).toMatch(/^exec_/);
    const logs = await stack.api<{ tool_call_logs: Record<string, unknown>[] }>(
      'GET',
      '/api/v1/agentkit/tool_call_logs?tool_name=gmail_get_profile&status=SUCCESS',
    );
    expect(logs.body.tool_call_logs[0]).toMatchObject({
      execution_id: result.body.execution_id,
      tool_name: 'gmail_get_profile',
      connection_name: 'MY_GMAIL',
      identifier: 'john-doe',
      status: 'SUCCESS',
      source: 'API',
      error_code: null,
    });
    expect(JSON.stringify(logs.body)).not.toContain(johnToken);
  });

  it("runs a call for one identifier with that user's account only", async () => {
    const john = await execute('gmail_get_profile', {}, 'john-doe');
    const jane = await execute('gmail_get_profile', {}, 'jane-doe');
    expect(john.body.data.emailAddress).toBe('john.doe@example.com');
    expect(jane.body.data.emailAddress).toBe('jane.doe@example.com');
    const johnMail = await execute('gmail_fetch_mails', { max_results: 20 }, 'john-doe');
    const janeMail = await execute('gmail_fetch_mails', { max_results: 20 }, 'jane-doe');
    const ids = (r: typeof johnMail) => new Set((r.body.data.messages as { id: string }[]).map((m) => m.id));
    for (const id of ids(johnMail)) expect(ids(janeMail).has(id)).toBe(false);
  });

  it('names the wrong or missing field of a tool input', async () => {
    const wrongType = await execute('gmail_fetch_mails', { max_results: 'ten' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.code).toBe('tool_input_invalid');
    expect(wrongType.body.error?.message).toContain('max_results');
    expect(wrongType.body.execution_id).toMatch(/^exec_/);
    const missing = await execute('googlecalendar_create_event', { summary: 'x' }, 'john-doe', 'MY_CALENDAR');
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toContain('start_datetime');
  });

  it('answers an unknown tool, a tool of another provider, and an unknown connection clearly', async () => {
    const unknown = await execute('gmail_teleport', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('tool_not_found');
    const mismatch = await execute('googlecalendar_list_calendars', {}, 'john-doe', 'MY_GMAIL');
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error?.message).toContain('googlecalendar');
    const noConnection = await execute('gmail_get_profile', {}, 'john-doe', 'NOPE');
    expect(noConnection.status).toBe(404);
  });

  it('runs a connected_account_id only when the connector and identifier given beside it are its own', async () => {
    const jane = await stack.api<{ connected_account: { id: string } }>(
      'GET',
      '/api/v1/connected_accounts/auth?connector=MY_GMAIL&identifier=jane-doe',
    );
    const id = jane.body.connected_account.id;
    const call = (extra: Record<string, string>) =>
      stack.api<{ execution_id: string } & Partial<ToolError>>('POST', '/api/v1/execute_tool', {
        tool_name: 'gmail_get_profile',
        connected_account_id: id,
        params: {},
        ...extra,
      });
    const crossings: Record<string, string>[] = [
      { identifier: 'john-doe', connector: 'MY_GMAIL' },
      { identifier: 'john-doe' },
      { connector: 'READONLY_GMAIL' },
    ];
    for (const crossed of crossings) {
      const refused = await call(crossed);
      expect(refused.status, JSON.stringify(crossed)).toBe(400);
      expect(refused.body.error?.code).toBe('validation_failed');
    }
    expect((await call({ identifier: 'jane-doe', connector: 'MY_GMAIL' })).status).toBe(200);
    expect((await call({})).status).toBe(200);
  });

  it('answers a user who never connected with account_not_connected and an authentication link', async () => {
    const result = await execute('gmail_get_profile', {}, 'new-user');
    expect(result.status).toBe(409);
    expect(result.body.error?.code).toBe('account_not_connected');
    expect(result.body.error?.details?.authentication_link).toMatch(`${stack.url}/connect/`);
    expect(result.body.error?.message).toContain('/connect/');
  });

  it('refuses a tool whose scope was not granted, naming the scope, and gives an ACTIVE account no link', async () => {
    const result = await execute(
      'gmail_send_message',
      { to: 'a@example.com', subject: 's', body: 'b' },
      'john-doe',
      'READONLY_GMAIL',
    );
    expect(result.status).toBe(403);
    expect(result.body.error?.code).toBe('insufficient_scope');
    expect(result.body.error?.message).toContain('https://www.googleapis.com/auth/gmail');
    expect(result.body.error?.message).toContain('re-authorize READONLY_GMAIL through your app');
    expect(result.body.error?.details?.authentication_link).toBeUndefined();
    expect(JSON.stringify(result.body)).not.toContain('/connect/');
    const account = await stack.api<{ connected_account: { id: string } }>(
      'GET',
      '/api/v1/connected_accounts/details?connector=READONLY_GMAIL&identifier=john-doe',
    );
    const links = await stack.db.db
      .selectFrom('auth_links')
      .select('id')
      .where('connected_account_id', '=', account.body.connected_account.id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    expect(links).toEqual([]);
  });

  it('maps a provider 403 for a missing scope to insufficient_scope', async () => {
    const limited = stack.sandbox.state.oauth.issueTokenDirectly({
      email: 'john.doe@example.com',
      scopes: ['https://www.googleapis.com/auth/gmail.labels'],
    });
    const created = await stack.api('POST', '/api/v1/connected_accounts', {
      connector: 'MY_GMAIL',
      identifier: 'limited-user',
      connected_account: { authorization_details: { oauth_token: { access_token: limited.access_token } } },
    });
    expect(created.status).toBe(201);
    const result = await execute('gmail_fetch_mails', {}, 'limited-user');
    expect(result.status).toBe(403);
    expect(result.body.error?.code).toBe('insufficient_scope');
    expect(result.body.error?.details?.required_scopes).toBeTruthy();
    expect(result.body.error?.details?.authentication_link).toBeUndefined();
    expect(JSON.stringify(result.body)).not.toContain(limited.access_token);
  });

  it('retries a 429 after its Retry-After and succeeds', async () => {
    stack.sandbox.state.addFault({
      match: { pathPrefix: '/gmail/v1/users/me/profile' },
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const started = Date.now();
    const result = await execute('gmail_get_profile', {});
    expect(result.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('gives up on persistent 429s with provider_rate_limited in bounded time', async () => {
    stack.sandbox.state.addFault({
      match: { pathPrefix: '/gmail/v1/users/me/profile' },
      status: 429,
      retryAfterSeconds: 0,
      times: 10,
    });
    const started = Date.now();
    const result = await execute('gmail_get_profile', {});
    expect(result.status).toBe(429);
    expect(result.body.error?.code).toBe('provider_rate_limited');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not wait for a Retry-After longer than the engine allows', async () => {
    stack.sandbox.state.addFault({
      match: { pathPrefix: '/gmail/v1/users/me/profile' },
      status: 429,
      retryAfterSeconds: 3600,
      times: 1,
    });
    const started = Date.now();
    const result = await execute('gmail_get_profile', {});
    expect(result.body.error?.code).toBe('provider_rate_limited');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('retries 500s with backoff, then answers provider_unavailable', async () => {
    stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 500, times: 10 });
    const started = Date.now();
    const result = await execute('gmail_get_profile', {});
    expect(result.status).toBe(502);
    expect(result.body.error?.code).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
    stack.sandbox.state.faults.clear();
    stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 503, times: 1 });
    expect((await execute('gmail_get_profile', {})).status).toBe(200);
  });

  it('times out a slow provider with provider_timeout', async () => {
    stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, delayMs: 3_000, times: 1 });
    const started = Date.now();
    const result = await execute('gmail_get_profile', {});
    expect(result.status).toBe(504);
    expect(result.body.error?.code).toBe('provider_timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('turns a revoked grant into account_expired with a link, and logs the failure', async () => {
    await stack.connectAccount('MY_CALENDAR', 'revoked-user', 'jane.doe@example.com');
    const user = stack.sandbox.state.findUser('jane.doe@example.com');
    if (!user) throw new Error('seeded user missing');
    stack.sandbox.state.oauth.revokeGrantOf(user);
    const result = await execute('googlecalendar_list_calendars', {}, 'revoked-user', 'MY_CALENDAR');
    expect(result.status).toBe(409);
    expect(result.body.error?.code).toBe('account_expired');
    expect(result.body.error?.details?.authentication_link).toBeTruthy();
    const logs = await stack.api<{ tool_call_logs: { error_code: string; status: string }[] }>(
      'GET',
      '/api/v1/agentkit/tool_call_logs?identifier=revoked-user&status=FAILED',
    );
    expect(logs.body.tool_call_logs[0]).toMatchObject({ status: 'FAILED', error_code: 'account_expired' });
  });

  it('filters tool-call logs by time range, source and connection', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = await stack.api<{ tool_call_logs: unknown[] }>(
      'GET',
      `/api/v1/agentkit/tool_call_logs?start_time=${future}`,
    );
    expect(none.body.tool_call_logs).toHaveLength(0);
    const calendar = await stack.api<{ tool_call_logs: { connection_name: string }[] }>(
      'GET',
      '/api/v1/agentkit/tool_call_logs?connection_name=MY_CALENDAR&source=API',
    );
    expect(calendar.body.tool_call_logs.length).toBeGreaterThan(0);
    expect(calendar.body.tool_call_logs.every((l) => l.connection_name === 'MY_CALENDAR')).toBe(true);
    const bad = await stack.api<ToolError>('GET', '/api/v1/agentkit/tool_call_logs?status=MAYBE');
    expect(bad.status).toBe(400);
  });
});
