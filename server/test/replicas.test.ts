import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailableFor, WITHOUT_POSTGRES } from './support/database.js';
import { CLI, type ServerProcess, startServerProcess } from './support/process.js';
import { replicaEnv, type Stack, startStack } from './support/stack.js';

const MODERN = '2026-07-28';

/** One stateless 2026-07-28 request to an instance URL, sent to the replica at `baseUrl`. */
async function rpc(baseUrl: string, instanceUrl: string, method: 'tools/list' | 'tools/call', params: object = {}) {
  const url = new URL(instanceUrl);
  const response = await fetch(`${baseUrl}${url.pathname}`, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(method === 'tools/call' ? { 'mcp-name': (params as { name: string }).name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: {
        ...params,
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Polls `probe` until it holds; resolves with the milliseconds it took (or fails after 5 s). */
async function msUntil(probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    if (await probe()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the change never reached the other replica');
}

/**
 * Caches are per process; these tests hold the replicas to the promise that a change made
 * through one of them reaches every other within a second: the test's in-process server
 * and a child process running the built CLI share one Postgres schema.
 */
// Needs Postgres whatever SWITCHBOARD_TEST_ENGINE says; skipped, with a warning, when none answers.
const withPostgres = describe.skipIf(!postgresAvailableFor('replicas.test.ts'));

withPostgres(`changes on one replica reach the others within a second${WITHOUT_POSTGRES}`, () => {
  let stack: Stack;
  let other: ServerProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`build the server first (npm run build): ${CLI} is missing`);
    stack = await startStack({ listen: true, engine: 'postgres' });
    await stack.createConnection('MY_GMAIL', 'gmail');
    const created = await stack.api('POST', '/api/v1/mcp/configs', {
      name: 'replicated',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    expect(created.status).toBe(201);
    other = await startServerProcess(replicaEnv(stack));
  });
  afterAll(async () => {
    other?.child.kill('SIGKILL');
    await stack?.close();
  });

  async function instanceFor(user: string): Promise<{ id: string; url: string }> {
    const ensured = await stack.api<{ instance: { id: string; url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'replicated',
      user_identifier: user,
    });
    return ensured.body.instance;
  }

  const fetchMails = { name: 'gmail_fetch_mails', arguments: { max_results: 1 } };
  const errorCode = (body: Record<string, unknown>) =>
    (body.result as { structuredContent?: { error?: { code?: string } } } | undefined)?.structuredContent?.error?.code;

  it('stops tool calls on the other replica within a second of a disconnect whose revocation failed', async () => {
    const instance = await instanceFor('disconnect-user');
    const accountId = await stack.connectAccount('MY_GMAIL', 'disconnect-user');
    const otherUrl = other?.url ?? '';
    // Both replicas have served the account, so both hold it (and its token) in their caches.
    for (const base of [stack.url, otherUrl, otherUrl]) {
      const warm = await rpc(base, instance.url, 'tools/call', fetchMails);
      expect(warm.body.result).toBeDefined();
      expect(errorCode(warm.body)).toBeUndefined();
    }
    // The provider refuses the revocation (Switchboard only logs it), so the token stays valid
    // at the provider: the other replica can only learn of the disconnect from the change feed,
    // not from a 401 on its next call.
    const faults = stack.sandbox.state.faults;
    faults.clear();
    for (const pathPrefix of ['/revoke', '/o/oauth2/revoke']) faults.add({ match: { pathPrefix }, status: 503 });
    const disconnected = await stack.api('POST', `/api/v1/connected_accounts/${accountId}:disconnect`);
    expect(disconnected.status).toBe(200);
    expect(faults.size, 'the revocation was attempted and refused').toBe(1);
    faults.clear();

    const here = await rpc(stack.url, instance.url, 'tools/call', fetchMails);
    expect(errorCode(here.body)).toBe('account_disconnected');
    const ms = await msUntil(
      async () =>
        errorCode((await rpc(otherUrl, instance.url, 'tools/call', fetchMails)).body) === 'account_disconnected',
    );
    expect(ms).toBeLessThan(1_000);
  });

  it('shows a config change on the other replica within a second', async () => {
    const instance = await instanceFor('config-user');
    const otherUrl = other?.url ?? '';
    const names = async (base: string) =>
      ((await rpc(base, instance.url, 'tools/list')).body.result as { tools: { name: string }[] }).tools.map(
        (t) => t.name,
      );
    expect(await names(otherUrl)).toEqual(['gmail_fetch_mails']);

    const config = await stack.api<{ configs: { id: string }[] }>('GET', '/api/v1/mcp/configs?filter.name=replicated');
    const id = config.body.configs[0]?.id ?? '';
    const updated = await stack.api('PUT', `/api/v1/mcp/configs/${id}`, {
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_list_labels'] }],
    });
    expect(updated.status).toBe(200);

    expect(await names(stack.url)).toEqual(['gmail_fetch_mails', 'gmail_list_labels']);
    const ms = await msUntil(async () => (await names(otherUrl)).length === 2);
    expect(ms).toBeLessThan(1_000);
  });

  it('answers ensure-instance on the other replica with a changed, then a deleted, config within a second', async () => {
    const created = await stack.api<{ config: { id: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'ensured-elsewhere',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    expect(created.status).toBe(201);
    const otherUrl = other?.url ?? '';
    // Both replicas check tokens with the same signing keys, so the stack's token works there.
    const ensureOnOther = async () => {
      const response = await fetch(`${otherUrl}/api/v1/mcp/instances`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await stack.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ config_name: 'ensured-elsewhere', user_identifier: 'ensure-user' }),
      });
      const body = (await response.json()) as {
        instance?: { config: { connection_tool_mappings: { tools: string[] }[] } };
      };
      return { status: response.status, tools: body.instance?.config.connection_tool_mappings.flatMap((m) => m.tools) };
    };
    // Twice: the first creates the instance, the second answers from the other replica's cache.
    expect(await ensureOnOther()).toEqual({ status: 201, tools: ['gmail_fetch_mails'] });
    expect(await ensureOnOther()).toEqual({ status: 200, tools: ['gmail_fetch_mails'] });

    const updated = await stack.api('PUT', `/api/v1/mcp/configs/${created.body.config.id}`, {
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_list_labels'] }],
    });
    expect(updated.status).toBe(200);
    const changedMs = await msUntil(async () => (await ensureOnOther()).tools?.length === 2);
    expect(changedMs).toBeLessThan(1_000);
    expect(await ensureOnOther()).toEqual({ status: 200, tools: ['gmail_fetch_mails', 'gmail_list_labels'] });

    expect((await stack.api('DELETE', `/api/v1/mcp/configs/${created.body.config.id}`)).status).toBe(200);
    const deletedMs = await msUntil(async () => (await ensureOnOther()).status === 404);
    expect(deletedMs).toBeLessThan(1_000);
  });

  it('stops serving a deleted instance URL on the other replica within a second', async () => {
    const instance = await instanceFor('deleted-user');
    const otherUrl = other?.url ?? '';
    expect((await rpc(otherUrl, instance.url, 'tools/list')).status).toBe(200);
    const deleted = await stack.api('DELETE', `/api/v1/mcp/instances/${instance.id}`);
    expect(deleted.status).toBe(200);
    expect((await rpc(stack.url, instance.url, 'tools/list')).status).toBe(404);
    const ms = await msUntil(async () => (await rpc(otherUrl, instance.url, 'tools/list')).status === 404);
    expect(ms).toBeLessThan(1_000);
  });
});
