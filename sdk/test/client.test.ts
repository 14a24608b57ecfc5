import { type Stack, startStack } from '@switchboard/server/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Switchboard, SwitchboardError } from '../src/index.js';

/** A fetch that records every request it passes on to the real server `through` (the stack's fetch). */
function recordingFetch(through: typeof fetch) {
  const calls: { method: string; path: string }[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push({ method: init?.method ?? 'GET', path: url.pathname });
    return through(input, init);
  };
  return { calls, fetch: wrapped };
}

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}

describe('the SDK against a running Switchboard', () => {
  let stack: Stack;
  let switchboard: Switchboard;
  const noWait = async () => {};

  beforeAll(async () => {
    stack = await startStack();
    switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
      fetch: stack.fetch,
      sleep: noWait,
    });
  });
  afterAll(() => stack?.close());

  describe('connections', () => {
    it('creates, lists, gets, updates and deletes a connection', async () => {
      const created = await switchboard.connections.create({ name: 'CRUD_GMAIL', provider: 'gmail' });
      expect(created).toMatchObject({
        name: 'CRUD_GMAIL',
        provider: 'gmail',
        target: 'sandbox',
        oauth_client_secret_set: true,
      });
      expect(created.id).toMatch(/^conn_/);

      const listed = await switchboard.connections.list({ provider: 'gmail' });
      expect(listed.connections.map((c) => c.name)).toContain('CRUD_GMAIL');
      expect(listed.total_size).toBeGreaterThanOrEqual(1);

      expect((await switchboard.connections.get(created.id)).name).toBe('CRUD_GMAIL');

      const updated = await switchboard.connections.update(created.id, {
        scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      });
      expect(updated.scopes).toEqual(['https://www.googleapis.com/auth/gmail.readonly']);

      await switchboard.connections.delete(created.id);
      const gone = await rejection(switchboard.connections.get(created.id));
      expect(gone).toMatchObject({ code: 'not_found', status: 404 });
    });

    it('turns a duplicate name into a SwitchboardError with code, status and request id', async () => {
      await switchboard.connections.create({ name: 'DUP_CAL', provider: 'googlecalendar' });
      const error = await rejection(switchboard.connections.create({ name: 'DUP_CAL', provider: 'googlecalendar' }));
      expect(error.code).toBe('already_exists');
      expect(error.status).toBe(409);
      expect(error.message).toContain('DUP_CAL');
      expect(error.requestId).toMatch(/\S+/);
      expect(error.executionId).toBeUndefined();
    });

    it('carries the field details of a validation failure', async () => {
      const error = await rejection(switchboard.connections.create({ name: 'bad name!', provider: 'gmail' }));
      expect(error.code).toBe('validation_failed');
      expect(error.status).toBe(400);
      expect(JSON.stringify(error.details)).toContain('name');
    });
  });

  describe('connected accounts', () => {
    beforeAll(async () => {
      await switchboard.connections.create({ name: 'ACC_GMAIL', provider: 'gmail' });
    });

    it('creates, lists, searches and gets an account by connector+identifier and by id', async () => {
      const created = await switchboard.connectedAccounts.create({ connector: 'ACC_GMAIL', identifier: 'alice-1' });
      expect(created).toMatchObject({ connector: 'ACC_GMAIL', identifier: 'alice-1', status: 'PENDING_AUTH' });

      const listed = await switchboard.connectedAccounts.list({ connector: 'ACC_GMAIL' });
      expect(listed.connected_accounts.map((a) => a.id)).toContain(created.id);

      const found = await switchboard.connectedAccounts.search({ query: 'alice' });
      expect(found.connected_accounts.map((a) => a.identifier)).toContain('alice-1');

      const byName = await switchboard.connectedAccounts.get({ connector: 'ACC_GMAIL', identifier: 'alice-1' });
      const byId = await switchboard.connectedAccounts.get({ id: created.id });
      expect(byName.id).toBe(created.id);
      expect(byId.identifier).toBe('alice-1');
    });

    it('gives an authorization link that sandbox consent turns into an ACTIVE account', async () => {
      const { link, expiry } = await switchboard.connectedAccounts.getAuthorizationLink({
        connector: 'ACC_GMAIL',
        identifier: 'bob-1',
      });
      expect(link).toMatch(new RegExp(`^${stack.url}/connect/`));
      expect(Date.parse(expiry)).toBeGreaterThan(Date.now());

      const page = await stack.consent(link);
      expect(page.status).toBe(200);
      const account = await switchboard.connectedAccounts.get({ connector: 'ACC_GMAIL', identifier: 'bob-1' });
      expect(account.status).toBe('ACTIVE');
      expect(account.authorization_details.oauth_token.domain).toBe('john.doe@example.com');
    });

    it('updates tokens, disconnects and deletes an account', async () => {
      await switchboard.connectedAccounts.create({ connector: 'ACC_GMAIL', identifier: 'carol-1' });
      const ref = { connector: 'ACC_GMAIL', identifier: 'carol-1' };
      const updated = await switchboard.connectedAccounts.update({
        ...ref,
        connected_account: {
          authorization_details: { oauth_token: { access_token: 'imported-token', expires_in: 3600, scopes: [] } },
        },
      });
      expect(updated.status).toBe('ACTIVE');

      const disconnected = await switchboard.connectedAccounts.disconnect(ref);
      expect(disconnected.status).toBe('DISCONNECTED');

      await switchboard.connectedAccounts.delete(ref);
      expect((await rejection(switchboard.connectedAccounts.get(ref))).code).toBe('not_found');
    });
  });

  describe('tools and logs', () => {
    beforeAll(async () => {
      await stack.createConnection('TOOLS_GMAIL', 'gmail');
      await stack.connectAccount('TOOLS_GMAIL', 'dave-1');
    });

    it('lists the catalog and the tools a user can run', async () => {
      const all = await switchboard.tools.list({ provider: 'gmail', page_size: 500 });
      expect(all.tool_names).toContain('gmail_fetch_mails');
      const fetchMails = all.tools.find((t) => t.definition.name === 'gmail_fetch_mails');
      expect(fetchMails?.definition.input_schema).toMatchObject({ type: 'object' });

      const names = await switchboard.tools.list({ tool_name: ['gmail_fetch_mails'], summary: true });
      expect(names).toMatchObject({ tools: [], tool_names: ['gmail_fetch_mails'] });

      const scoped = await switchboard.tools.listScoped({ identifier: 'dave-1', tool_names: ['gmail_fetch_mails'] });
      expect(scoped.tools).toHaveLength(1);
      expect(scoped.tools[0]?.identifier).toBe('dave-1');
    });

    it('executes a tool for a user and returns data with an execution id', async () => {
      const result = await switchboard.tools.execute<{ messages: { subject: string }[] }>({
        tool_name: 'gmail_fetch_mails',
        connector: 'TOOLS_GMAIL',
        identifier: 'dave-1',
        params: { max_results: 1 },
      });
      expect(result.execution_id).toMatch(/\S+/);
      expect(result.data.messages).toHaveLength(1);
    });

    it('maps a tool failure to toolErrorCode, executionId and the link that connects the account', async () => {
      const { calls, fetch } = recordingFetch(stack.fetch);
      const client = new Switchboard({
        url: stack.url,
        clientId: stack.admin.client_id,
        clientSecret: stack.admin.client_secret,
        fetch,
      });
      const error = await rejection(
        client.tools.execute({
          tool_name: 'gmail_fetch_mails',
          connector: 'TOOLS_GMAIL',
          identifier: 'nobody-1',
          params: {},
        }),
      );
      expect(error.code).toBe('account_not_connected');
      expect(error.toolErrorCode).toBe('account_not_connected');
      expect(error.executionId).toMatch(/\S+/);
      expect(error.authenticationLink).toMatch(new RegExp(`^${stack.url}/connect/`));
      // A tool error is not retried.
      expect(calls.filter((c) => c.path === '/api/v1/execute_tool')).toHaveLength(1);
    });

    it('lists tool call logs with filters', async () => {
      const logs = await switchboard.logs.list({ tool_name: 'gmail_fetch_mails', identifier: 'dave-1', source: 'API' });
      expect(logs.tool_call_logs.length).toBeGreaterThanOrEqual(1);
      expect(logs.tool_call_logs.every((l) => l.identifier === 'dave-1' && l.status === 'SUCCESS')).toBe(true);

      const failed = await switchboard.logs.list({ status: 'FAILED', start_time: new Date(Date.now() - 60_000) });
      expect(
        failed.tool_call_logs.some((l) => l.identifier === 'nobody-1' && l.error_code === 'account_not_connected'),
      ).toBe(true);
    });
  });

  describe('management token', () => {
    it('fetches the token once, reuses it, and renews it before it expires (fake clock)', async () => {
      let now = Date.now();
      const { calls, fetch } = recordingFetch(stack.fetch);
      const client = new Switchboard({
        url: stack.url,
        clientId: stack.admin.client_id,
        clientSecret: stack.admin.client_secret,
        fetch,
        clock: { now: () => now },
      });
      const tokenCalls = () => calls.filter((c) => c.path === '/oauth/token').length;

      await Promise.all([client.connections.list(), client.connections.list(), client.tools.list({ summary: true })]);
      expect(tokenCalls()).toBe(1);

      now += 30 * 60_000; // half an hour: still valid
      await client.connections.list();
      expect(tokenCalls()).toBe(1);

      now += 29 * 60_000 + 30_000; // 59.5 minutes after issue: inside the renewal margin of a one-hour token
      await client.connections.list();
      expect(tokenCalls()).toBe(2);
    });

    it('renews once when the server rejects a cached token', async () => {
      const { calls, fetch } = recordingFetch(stack.fetch);
      let spoiled = false;
      const spoiling: typeof fetch = async (input, init) => {
        const headers = new Headers(init?.headers);
        if (!spoiled && headers.has('authorization')) {
          spoiled = true;
          headers.set('authorization', 'Bearer not-a-valid-token');
          return fetch(input, { ...init, headers });
        }
        return fetch(input, init);
      };
      const client = new Switchboard({
        url: stack.url,
        clientId: stack.admin.client_id,
        clientSecret: stack.admin.client_secret,
        fetch: spoiling,
      });
      await client.connections.list();
      expect(calls.map((c) => c.path)).toEqual([
        '/oauth/token',
        '/api/v1/connections',
        '/oauth/token',
        '/api/v1/connections',
      ]);
    });

    it('reports wrong client credentials as invalid_client', async () => {
      const client = new Switchboard({
        url: stack.url,
        clientId: stack.admin.client_id,
        clientSecret: 'wrong',
        fetch: stack.fetch,
      });
      const error = await rejection(client.connections.list());
      expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    });
  });

  describe('retries', () => {
    /** Answers the first `count` API calls with `response()` itself, then lets requests through. */
    function failingFirst(count: number, response: () => Response) {
      const { calls, fetch } = recordingFetch(stack.fetch);
      let left = count;
      const wrapped: typeof fetch = async (input, init) => {
        const url = new URL(String(input));
        if (url.pathname.startsWith('/api/') && left > 0) {
          left--;
          calls.push({ method: init?.method ?? 'GET', path: `${url.pathname} (faked)` });
          return response();
        }
        return fetch(input, init);
      };
      return { calls, fetch: wrapped };
    }

    const clientWith = (fetch: typeof globalThis.fetch, sleeps: number[] = []) =>
      new Switchboard({
        url: stack.url,
        clientId: stack.admin.client_id,
        clientSecret: stack.admin.client_secret,
        fetch,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      });

    const unavailable = () =>
      Response.json({ error: { code: 'service_unavailable', message: 'try again' } }, { status: 503 });

    it('retries a 503 with backoff and then succeeds', async () => {
      const sleeps: number[] = [];
      const { calls, fetch } = failingFirst(2, unavailable);
      const list = await clientWith(fetch, sleeps).connections.list();
      expect(list.connections.length).toBeGreaterThan(0);
      expect(calls.filter((c) => c.path.startsWith('/api/'))).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });

    it('gives up after the retries with the 503 as a SwitchboardError', async () => {
      const { fetch } = failingFirst(10, unavailable);
      const error = await rejection(clientWith(fetch).connections.list());
      expect(error).toMatchObject({ code: 'service_unavailable', status: 503 });
    });

    it('does not retry a 429 without Retry-After', async () => {
      const { calls, fetch } = failingFirst(1, () =>
        Response.json({ error: { code: 'rate_limited', message: 'slow down' } }, { status: 429 }),
      );
      const error = await rejection(clientWith(fetch).connections.list());
      expect(error.code).toBe('rate_limited');
      expect(calls.filter((c) => c.path.startsWith('/api/'))).toHaveLength(1);
    });

    it('retries a 429 once, waiting as long as Retry-After says', async () => {
      const sleeps: number[] = [];
      const { fetch } = failingFirst(1, () =>
        Response.json(
          { error: { code: 'rate_limited', message: 'slow down' } },
          { status: 429, headers: { 'retry-after': '2' } },
        ),
      );
      await clientWith(fetch, sleeps).connections.list();
      expect(sleeps).toEqual([2000]);
    });

    it('retries network errors of idempotent calls, then reports network_error', async () => {
      let attempts = 0;
      const down: typeof fetch = async () => {
        attempts++;
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      };
      const error = await rejection(clientWith(down).connections.list());
      expect(error).toMatchObject({ code: 'network_error', status: 0 });
      expect(error.message).toContain(stack.url);
      expect(attempts).toBe(3);
    });

    it('does not resend a tool execution after the connection dropped mid-request', async () => {
      let executeAttempts = 0;
      const flaky: typeof fetch = async (input, init) => {
        if (new URL(String(input)).pathname === '/api/v1/execute_tool') {
          executeAttempts++;
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
          });
        }
        return stack.fetch(input, init);
      };
      const error = await rejection(
        clientWith(flaky).tools.execute({
          tool_name: 'gmail_fetch_mails',
          connector: 'TOOLS_GMAIL',
          identifier: 'dave-1',
        }),
      );
      expect(error.code).toBe('network_error');
      expect(executeAttempts).toBe(1);
    });
  });
});
