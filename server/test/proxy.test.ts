import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

interface ErrorAnswer {
  error?: { code: string; message: string };
  execution_id?: string;
}

/**
 * `/proxy{path}` (the SDKs' `actions.request`) on the REST edge: the account from the
 * headers connection_name and identifier, the provider's first declared origin (the sandbox
 * here), the user's token added server-side and never answered, one log row per call.
 */
describe('/proxy: a call to the provider’s own API for a connected account', () => {
  let stack: Stack;
  let through: typeof fetch = fetch;
  /** Every request that left for the provider: URL and the authorization it carried. */
  const sent: { url: string; authorization: string | null }[] = [];
  let accountId: string;

  const proxy = async (
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string>; token?: string | null } = {},
  ) => {
    const token = init.token === undefined ? await stack.token() : init.token;
    return stack.fetch(`${stack.url}/proxy${path}`, {
      method: init.method ?? 'GET',
      headers: {
        connection_name: 'MY_GMAIL',
        identifier: 'john-doe',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...init.headers,
      },
      body: init.body,
    });
  };

  const logRow = async (executionId: string | null) => {
    await stack.services.callLog.flush();
    return stack.db.db
      .selectFrom('tool_call_logs')
      .selectAll()
      .where('execution_id', '=', executionId ?? '')
      .executeTakeFirst();
  };

  beforeAll(async () => {
    stack = await startStack({
      fetch: (input, init) => {
        const request = new Request(input, init);
        if (request.url.includes('/gmail/') || request.url.includes('/__sandbox/')) {
          sent.push({ url: request.url, authorization: request.headers.get('authorization') });
        }
        return through(request);
      },
    });
    through = stack.fetch;
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    accountId = await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('passes a GET with its query on and answers with the provider’s status and body, never the token', async () => {
    sent.length = 0;
    const answer = await proxy('/gmail/v1/users/me/messages?maxResults=2&q=in%3Ainbox');
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/json/);
    const body = JSON.parse(text) as { messages: unknown[] };
    expect(body.messages.length).toBeGreaterThan(0);
    expect(body.messages.length).toBeLessThanOrEqual(2);

    // The provider got the user's token, at the sandbox, with the query as sent.
    expect(sent).toHaveLength(1);
    const out = new URL(sent[0]?.url ?? '');
    expect(out.origin).toBe(stack.sandbox.url);
    expect(out.pathname).toBe('/gmail/v1/users/me/messages');
    expect(out.searchParams.get('maxResults')).toBe('2');
    expect(out.searchParams.get('q')).toBe('in:inbox');
    const { accessToken } = await stack.services.vault.getAccessToken(accountId);
    expect(sent[0]?.authorization).toBe(`Bearer ${accessToken}`);

    // Nothing of the token (or of ours) in what came back.
    const headers = JSON.stringify([...answer.headers]);
    expect(text).not.toContain(accessToken);
    expect(headers).not.toContain(accessToken);
    expect(answer.headers.get('authorization')).toBeNull();
    expect(answer.headers.get('www-authenticate')).toBeNull();
    expect(answer.headers.get('set-cookie')).toBeNull();
    expect(answer.headers.get('x-switchboard-execution-id')).toMatch(/^exec_/);
  });

  it('passes a POST body on and answers the provider’s result', async () => {
    const answer = await proxy('/gmail/v1/users/me/labels', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Through the proxy' }),
    });
    const body = (await answer.json()) as { id?: string; name?: string };
    expect(answer.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ name: 'Through the proxy' });
    const labels = await proxy('/gmail/v1/users/me/labels');
    expect(JSON.stringify(await labels.json())).toContain('Through the proxy');
  });

  it('answers the provider’s own error status and body as they are', async () => {
    const answer = await proxy('/gmail/v1/users/me/messages/no-such-message');
    expect(answer.status).toBe(404);
    const body = (await answer.json()) as { error?: { code?: number; status?: string } };
    // Google's error shape, not ours.
    expect(body.error?.code).toBe(404);
  });

  it('refreshes the token once when the provider answers 401, then answers', async () => {
    const before = await stack.services.vault.getAccessToken(accountId);
    stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/profile' }, status: 401, times: 1 });
    const answer = await proxy('/gmail/v1/users/me/profile');
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { emailAddress?: string }).emailAddress).toBe('john.doe@example.com');
    const after = await stack.services.vault.getAccessToken(accountId);
    expect(after.version).toBeGreaterThan(before.version);
  });

  // Dot segments (`..`, `%2e%2e`) and backslashes never reach the route as such: the client's
  // and the server's URL parsers resolve them first. An encoded backslash does.
  it('refuses a path that would leave the provider’s API, and sends nothing', async () => {
    sent.length = 0;
    for (const path of ['//evil.example/steal', '/gmail/v1/users/me/%5c..%5cx', '/__sandbox/faults']) {
      const answer = await proxy(path);
      const body = (await answer.json()) as ErrorAnswer;
      expect(answer.status, path).toBe(400);
      expect(body.error?.code, path).toBe('invalid_request');
    }
    expect(sent).toEqual([]);
  });

  it('logs each call in tool_call_logs as <provider>_proxy from the REST edge, with method and path only', async () => {
    const ok = await proxy('/gmail/v1/users/me/profile?fields=emailAddress');
    expect(ok.status).toBe(200);
    const okRow = await logRow(ok.headers.get('x-switchboard-execution-id'));
    expect(okRow).toMatchObject({
      tool_name: 'gmail_proxy',
      provider: 'gmail',
      connection_name: 'MY_GMAIL',
      identifier: 'john-doe',
      connected_account_id: accountId,
      status: 'SUCCESS',
      source: 'API',
      attempt: 1,
    });
    expect(JSON.parse(okRow?.argument_summary ?? '{}')).toEqual({
      method: 'GET',
      path: '/gmail/v1/users/me/profile',
      query: { fields: 'emailAddress' },
    });

    const missing = await proxy('/gmail/v1/users/me/messages/no-such-message');
    const failedRow = await logRow(missing.headers.get('x-switchboard-execution-id'));
    expect(failedRow).toMatchObject({ tool_name: 'gmail_proxy', status: 'FAILED', error_code: 'provider_not_found' });

    const { accessToken } = await stack.services.vault.getAccessToken(accountId);
    const logs = await stack.api<{ tool_call_logs: unknown[] }>(
      'GET',
      '/api/v1/agentkit/tool_call_logs?tool_name=gmail_proxy&page_size=100',
    );
    expect(logs.body.tool_call_logs.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(logs.body)).not.toContain(accessToken);
  });

  it('answers not_found for an unknown account or connection, and logs the attempt', async () => {
    const unknown = await proxy('/gmail/v1/users/me/profile', { headers: { identifier: 'nobody-here' } });
    const body = (await unknown.json()) as ErrorAnswer;
    expect(unknown.status).toBe(404);
    expect(body.error?.code).toBe('not_found');
    expect(body.error?.message).toContain('nobody-here');
    expect(await logRow(body.execution_id ?? null)).toMatchObject({
      tool_name: 'gmail_proxy',
      status: 'FAILED',
      error_code: 'not_found',
      identifier: 'nobody-here',
    });

    const noConnection = await proxy('/gmail/v1/users/me/profile', { headers: { connection_name: 'NO_SUCH' } });
    expect(noConnection.status).toBe(404);
    expect(((await noConnection.json()) as ErrorAnswer).error?.code).toBe('not_found');
  });

  it('answers account_not_connected for an account that has not connected yet', async () => {
    const created = await stack.api('POST', '/api/v1/connected_accounts', {
      connector: 'MY_GMAIL',
      identifier: 'jane-pending',
    });
    expect(created.status).toBeLessThan(300);
    const answer = await proxy('/gmail/v1/users/me/profile', { headers: { identifier: 'jane-pending' } });
    expect(answer.status).toBe(409);
    expect(((await answer.json()) as ErrorAnswer).error?.code).toBe('account_not_connected');
  });

  it('needs a management token, both account headers and a method the proxy passes on', async () => {
    const anonymous = await proxy('/gmail/v1/users/me/profile', { token: null });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorAnswer).error?.code).toBe('unauthenticated');
    const forged = await proxy('/gmail/v1/users/me/profile', { token: 'not-a-token' });
    expect(forged.status).toBe(401);

    const token = await stack.token();
    const headerless = await stack.fetch(`${stack.url}/proxy/gmail/v1/users/me/profile`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(headerless.status).toBe(400);
    expect(((await headerless.json()) as ErrorAnswer).error?.code).toBe('validation_failed');

    const options = await proxy('/gmail/v1/users/me/profile', { method: 'OPTIONS' });
    expect(options.status).toBe(400);
  });

  it('refuses a read client even a GET, which would read the user’s mail, and sends nothing', async () => {
    const readToken = await stack.tokenOf(await stack.services.apiClients.create('proxy-reader', 'read'));
    const before = sent.length;
    for (const method of ['GET', 'HEAD', 'POST']) {
      const answer = await proxy('/gmail/v1/users/me/messages', { method, token: readToken });
      expect(answer.status, method).toBe(403);
      if (method !== 'HEAD') expect(((await answer.json()) as ErrorAnswer).error?.code).toBe('forbidden');
    }
    expect(sent.length).toBe(before);
    // The same client still reads what a read client may: the management API's GETs.
    const listed = await stack.fetch(`${stack.url}/api/v1/connections`, {
      headers: { authorization: `Bearer ${readToken}` },
    });
    expect(listed.status).toBe(200);
  });

  it('takes connection-name for connection_name, for reverse proxies that drop underscore headers', async () => {
    const token = await stack.token();
    const answer = await stack.fetch(`${stack.url}/proxy/gmail/v1/users/me/profile`, {
      headers: { authorization: `Bearer ${token}`, 'connection-name': 'MY_GMAIL', identifier: 'john-doe' },
    });
    expect(answer.status).toBe(200);
  });

  it('bounds the body it passes on', async () => {
    const { maxBodyBytes } = stack.services.config;
    const answer = await proxy('/gmail/v1/users/me/labels', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(maxBodyBytes) }),
    });
    expect(answer.status).toBe(413);
    expect(((await answer.json()) as ErrorAnswer).error?.code).toBe('payload_too_large');
  });
});
