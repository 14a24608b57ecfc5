import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DashboardClient } from './dashboard/dashboard-client.js';
import { TEST_REDIS_URL, testRedisUp } from './support/redis.js';
import { type Stack, startStack } from './support/stack.js';
import { ALL_GMAIL_SCOPES, JOHN } from './support/tool-harness.js';

const REDIS_URL = TEST_REDIS_URL;
const redisUp = await testRedisUp();

/** A wrong client-credentials request to /oauth/token; answers its status. */
async function wrongToken(
  stack: Stack,
  clientId = 'cli_nobody',
): Promise<{ status: number; retryAfter: string | null }> {
  const response = await stack.fetch(`${stack.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong' }),
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
}

/** Two replicas behind one load balancer: their own processes' state, one database, `env` each. */
async function twoReplicas(env: Record<string, string>): Promise<[Stack, Stack]> {
  const first = await startStack({ listen: true, env });
  const second = await startStack({ listen: true, env, database: first.db });
  return [first, second];
}

describe('request rate limits', () => {
  it('throttles 1,000 wrong dashboard sign-ins after the first 10 (in process, no REDIS_URL)', async () => {
    const stack = await startStack();
    try {
      const browser = new DashboardClient(stack);
      const form = await (await browser.get('/dashboard/sign-in')).text();
      const csrf = DashboardClient.hidden(form, '_csrf');
      const statuses = new Map<number, number>();
      let retryAfter: string | null = null;
      for (let batch = 0; batch < 20; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            browser.post('/dashboard/sign-in', {
              _csrf: csrf,
              next: '/dashboard',
              client_id: `cli_guess_${batch}_${i}`,
              client_secret: 'wrong',
            }),
          ),
        );
        for (const answer of answers) {
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          retryAfter ??= answer.headers.get('retry-after');
          await answer.arrayBuffer();
        }
      }
      expect(Object.fromEntries(statuses)).toEqual({ 401: 10, 429: 990 });
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    } finally {
      await stack.close();
    }
  });

  it('limits POST /oauth/token per address with 429 rate_limited and Retry-After', async () => {
    const stack = await startStack({ env: { SWITCHBOARD_RATE_LIMIT_TOKEN: '3/60' } });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await wrongToken(stack));
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 429]);
      expect(answers[3]?.retryAfter).toMatch(/^\d+$/);
      const body = await (
        await stack.fetch(`${stack.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&client_id=x&client_secret=y',
        })
      ).json();
      expect(body).toMatchObject({ error: 'rate_limited' });
    } finally {
      await stack.close();
    }
  });

  it('limits connect pages per address and magic links per management client', async () => {
    const stack = await startStack({
      env: { SWITCHBOARD_RATE_LIMIT_CONNECT: '2/60', SWITCHBOARD_RATE_LIMIT_MAGIC_LINK: '2/60' },
    });
    try {
      await stack.createConnection('MY_GMAIL', 'gmail');
      const links = [];
      for (let i = 0; i < 3; i++) {
        links.push(
          await stack.api<{ link?: string; error?: { code: string } }>(
            'POST',
            '/api/v1/connected_accounts/magic_link',
            {
              connector: 'MY_GMAIL',
              identifier: `user-${i}`,
            },
          ),
        );
      }
      expect(links.map((l) => l.status)).toEqual([200, 200, 429]);
      expect(links[2]?.body.error?.code).toBe('rate_limited');
      const pages = [];
      for (let i = 0; i < 3; i++)
        pages.push(await stack.fetch(`${stack.url}/connect/not-a-token-${i}`, { redirect: 'manual' }));
      expect(pages.map((p) => p.status)).toEqual([404, 404, 429]);
      expect(pages[2]?.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await pages[2]?.text()).toContain('Too many attempts');
    } finally {
      await stack.close();
    }
  });

  it("does not let a stranger's wrong secrets for a known client id lock that client out of /oauth/token or the dashboard", async () => {
    const stack = await startStack({
      env: {
        SWITCHBOARD_TRUST_PROXY: 'true',
        SWITCHBOARD_RATE_LIMIT_TOKEN: '3/60',
        SWITCHBOARD_RATE_LIMIT_SIGN_IN: '3/60',
      },
    });
    try {
      const { client_id: clientId, client_secret: clientSecret } = stack.admin;
      const token = async (address: string, secret: string) => {
        const response = await stack.fetch(`${stack.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const stranger = [];
      for (let i = 0; i < 5; i++) stranger.push(await token('203.0.113.9', 'wrong'));
      expect(stranger).toEqual([401, 401, 401, 429, 429]);
      expect(await token('198.51.100.7', clientSecret)).toBe(200);

      const signIn = async (address: string, secret: string) => {
        const browser = new DashboardClient(stack);
        const form = await (await browser.get('/dashboard/sign-in')).text();
        const answer = await browser.post(
          '/dashboard/sign-in',
          {
            _csrf: DashboardClient.hidden(form, '_csrf'),
            next: '/dashboard',
            client_id: clientId,
            client_secret: secret,
          },
          { 'x-forwarded-for': address },
        );
        await answer.arrayBuffer();
        return answer.status;
      };
      const guesses = [];
      for (let i = 0; i < 5; i++) guesses.push(await signIn('203.0.113.9', 'wrong'));
      expect(guesses).toEqual([401, 401, 401, 429, 429]);
      expect(await signIn('198.51.100.7', clientSecret)).toBe(303);
    } finally {
      await stack.close();
    }
  });

  it('caps the tokens one client is issued per window, wherever it asks from', async () => {
    const stack = await startStack({ env: { SWITCHBOARD_TRUST_PROXY: 'true', SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const response = await stack.fetch(`${stack.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i}` },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: stack.admin.client_id,
            client_secret: stack.admin.client_secret,
          }),
        });
        statuses.push(response.status);
        if (response.status === 429) expect(await response.json()).toMatchObject({ error: 'rate_limited' });
        else await response.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await stack.close();
    }
  });

  it('counts an IPv6 client by its /64, so registering from new addresses inside it buys no fresh window', async () => {
    const stack = await startStack({ env: { SWITCHBOARD_TRUST_PROXY: 'true', SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' } });
    try {
      const register = async (address: string) => {
        const response = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none' }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const oneSlash64 = ['2001:db8:1:2::a', '2001:db8:1:2:ffff::b', '2001:db8:1:2:1234:5678:9abc:def0'];
      const statuses = [];
      for (const address of oneSlash64) statuses.push(await register(address));
      expect(statuses).toEqual([201, 201, 429]);
      // The next /64 and IPv4 clients count apart.
      expect(await register('2001:db8:1:3::a')).toBe(201);
      expect(await register('192.0.2.1')).toBe(201);
      expect(await register('::ffff:192.0.2.1')).toBe(201);
      expect(await register('192.0.2.1')).toBe(429);
    } finally {
      await stack.close();
    }
  });

  it('counts each replica alone without REDIS_URL', async () => {
    const [a, b] = await twoReplicas({ SWITCHBOARD_RATE_LIMIT_TOKEN: '3/60' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await wrongToken(a)).status, (await wrongToken(b)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('behind a chain of proxies (SWITCHBOARD_TRUST_PROXY=2), counts the address the outer one saw', async () => {
    /** The connect page's statuses under `trust`, one request per X-Forwarded-For value. */
    const statuses = async (trust: string, forwardedFor: string[]) => {
      const stack = await startStack({
        listen: true,
        env: { SWITCHBOARD_TRUST_PROXY: trust, SWITCHBOARD_RATE_LIMIT_CONNECT: '1/60' },
      });
      try {
        const seen = [];
        for (const header of forwardedFor) {
          const response = await stack.fetch(`${stack.url}/connect/no-such-link`, {
            redirect: 'manual',
            headers: { 'x-forwarded-for': header },
          });
          await response.arrayBuffer();
          seen.push(response.status);
        }
        return seen;
      } finally {
        await stack.close();
      }
    };
    // A client at 198.51.100.7 behind a CDN (edges 10.0.0.x) and an ingress: what the client
    // sends itself and which edge it came through change from request to request, its address not.
    const oneClient = [
      '203.0.113.9, 198.51.100.7, 10.0.0.1',
      '192.0.2.1, 198.51.100.7, 10.0.0.2',
      '198.51.100.7, 10.0.0.3',
    ];
    expect(await statuses('2', oneClient)).toEqual([404, 429, 429]);
    // Trusting one proxy there counts each edge: the client gets a fresh window per edge.
    expect(await statuses('true', oneClient)).toEqual([404, 404, 404]);
    // Clients behind the same edge count apart; a request through the inner proxy only gets its first entry.
    expect(
      await statuses('2', ['198.51.100.7, 10.0.0.1', '198.51.100.8, 10.0.0.1', '198.51.100.9', '198.51.100.9']),
    ).toEqual([404, 404, 404, 429]);
  });

  it('refuses a SWITCHBOARD_TRUST_PROXY that is neither a boolean nor a count up to 10', () => {
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: 'yes' }).trustedProxies).toBe(1);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '0' }).trustedProxies).toBe(0);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '10' }).trustedProxies).toBe(10);
    expect(loadConfig({}).trustedProxies).toBe(0);
    for (const value of ['maybe', '11', '-1', '2.5'])
      expect(() => loadConfig({ SWITCHBOARD_TRUST_PROXY: value }), value).toThrow(
        /SWITCHBOARD_TRUST_PROXY: must be true, false or how many/,
      );
  });

  describe.skipIf(!redisUp)('with REDIS_URL', () => {
    const env = () => ({
      REDIS_URL,
      SWITCHBOARD_REDIS_KEY_PREFIX: `switchboard-test:${randomUUID()}:`,
      SWITCHBOARD_RATE_LIMIT_TOKEN: '3/60',
    });

    it('shares one limit across two replicas', async () => {
      const [a, b] = await twoReplicas(env());
      try {
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await wrongToken(a)).status, (await wrongToken(b)).status);
        // Three requests in all pass, whichever replica took them; a fresh client id counts apart.
        expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
        expect((await wrongToken(b, 'cli_other')).status).toBe(429); // the address is over its limit too
      } finally {
        await b.close();
        await a.close();
      }
    });

    it('trusts X-Forwarded-For only when SWITCHBOARD_TRUST_PROXY is set', async () => {
      for (const trust of [false, true]) {
        const stack = await startStack({ listen: true, env: { ...env(), SWITCHBOARD_TRUST_PROXY: String(trust) } });
        try {
          const statuses = [];
          for (let i = 0; i < 5; i++) {
            const response = await stack.fetch(`${stack.url}/connect/no-such-link`, {
              redirect: 'manual',
              headers: { 'x-forwarded-for': `203.0.113.${i}` },
            });
            await response.arrayBuffer();
            statuses.push(response.status);
          }
          // 60/60 is the default; a spoofed header must not buy a fresh window when no proxy is trusted.
          expect(statuses.every((s) => s === 404)).toBe(true);
          const stackEnvLimit = await startStack({
            listen: true,
            env: { ...env(), SWITCHBOARD_TRUST_PROXY: String(trust), SWITCHBOARD_RATE_LIMIT_CONNECT: '1/60' },
          });
          try {
            const seen = [];
            for (let i = 0; i < 3; i++) {
              const response = await stackEnvLimit.fetch(`${stackEnvLimit.url}/connect/no-such-link`, {
                redirect: 'manual',
                headers: { 'x-forwarded-for': `203.0.113.${i}` },
              });
              await response.arrayBuffer();
              seen.push(response.status);
            }
            expect(seen).toEqual(trust ? [404, 404, 404] : [404, 429, 429]);
          } finally {
            await stackEnvLimit.close();
          }
        } finally {
          await stack.close();
        }
      }
    });
  });
});

const MODERN = '2026-07-28';

/** One stateless tools/call to an instance URL; answers the JSON-RPC body and its byte length. */
async function mcpCall(stack: Stack, instanceUrl: string, name: string, args: object) {
  const response = await stack.fetch(`${stack.url}${new URL(instanceUrl).pathname}`, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  });
  const text = await response.text();
  return {
    status: response.status,
    bytes: Buffer.byteLength(text),
    result: (
      JSON.parse(text) as {
        result: { isError?: boolean; content: { text: string }[]; structuredContent?: { error?: { code: string } } };
      }
    ).result,
  };
}

/** What /execute_tool answers, as far as these tests read it. */
interface ExecuteAnswer {
  data: { [field: string]: unknown; note?: string; messages: { attachments: { attachmentId: string }[] }[] };
  error: { code: string; message: string };
}

async function executeTool(stack: Stack, toolName: string, params: object, identifier = 'john-doe') {
  const response = await stack.fetch(`${stack.url}/api/v1/execute_tool`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool_name: toolName, connector: 'MY_GMAIL', identifier, params }),
  });
  const text = await response.text();
  return {
    status: response.status,
    bytes: Buffer.byteLength(text),
    retryAfter: response.headers.get('retry-after'),
    body: JSON.parse(text) as ExecuteAnswer,
  };
}

describe('tool calls', () => {
  let stack: Stack;
  let instanceUrl: string;

  beforeAll(async () => {
    stack = await startStack({
      env: { SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT_PER_USER: '2', SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT: '3' },
    });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.connectAccount('MY_GMAIL', 'john-doe', JOHN);
    await stack.connectAccount('MY_GMAIL', 'jane-roe', 'jane.doe@example.com');
    const config = await stack.api('POST', '/api/v1/mcp/configs', {
      name: 'limits',
      connection_tool_mappings: [
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails', 'gmail_get_attachment_by_id'] },
      ],
    });
    expect(config.status).toBe(201);
    const instance = await stack.api<{ instance: { url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'limits',
      user_identifier: 'john-doe',
    });
    instanceUrl = instance.body.instance.url;
  });
  afterAll(() => stack?.close());

  it('answers rate_limited past the in-flight limits: 429 on REST, an isError result on MCP', async () => {
    stack.sandbox.state.addFault({ match: { pathPrefix: '/gmail/v1/users/me/messages' }, delayMs: 1500, times: 3 });
    const slow = [
      executeTool(stack, 'gmail_fetch_mails', { max_results: 1 }),
      executeTool(stack, 'gmail_fetch_mails', { max_results: 1 }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rest = await executeTool(stack, 'gmail_fetch_mails', { max_results: 1 });
    expect(rest.status).toBe(429);
    expect(rest.body.error.code).toBe('rate_limited');
    expect(rest.retryAfter).toBe('1');
    const mcp = await mcpCall(stack, instanceUrl, 'gmail_fetch_mails', { max_results: 1 });
    expect(mcp.status).toBe(200);
    expect(mcp.result.isError).toBe(true);
    expect(mcp.result.structuredContent?.error?.code).toBe('rate_limited');
    expect(mcp.result.content[0]?.text).toMatch(/john-doe already has 2 tool calls running/);
    // Another user still has a slot, until the whole process is at its limit of 3.
    const other = executeTool(stack, 'gmail_fetch_mails', { max_results: 1 }, 'jane-roe');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const overall = await executeTool(stack, 'gmail_fetch_mails', { max_results: 1 }, 'jane-roe');
    expect(overall.body.error?.code).toBe('rate_limited');
    expect(overall.body.error?.message).toMatch(/maximum of 3 tool calls/);
    for (const done of await Promise.all([...slow, other])) expect(done.status).toBe(200);
    // Slots come back when calls end.
    expect((await executeTool(stack, 'gmail_fetch_mails', { max_results: 1 })).status).toBe(200);
  });

  it('describes a 20 MB attachment instead of returning it, on REST and MCP', async () => {
    const grant = stack.sandbox.state.oauth.issueTokenDirectly({ email: JOHN, scopes: ALL_GMAIL_SCOPES });
    const big = Buffer.alloc(20 * 1024 * 1024, 7)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    const raw = [
      'From: a@ext.example',
      `To: ${JOHN}`,
      'Subject: a big file',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--m',
      'Content-Type: application/pdf; name="big.pdf"',
      'Content-Disposition: attachment; filename="big.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      big,
      '--m--',
      '',
    ].join('\r\n');
    const uploaded = await stack.fetch(`${stack.sandbox.url}/upload/gmail/v1/users/me/messages?uploadType=media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${grant.access_token}`, 'content-type': 'message/rfc822' },
      body: raw,
    });
    expect(uploaded.status).toBe(200);
    const { id } = (await uploaded.json()) as { id: string };
    const message = await executeTool(stack, 'gmail_get_message_by_id', { message_id: id });
    const attachmentId = message.body.data.messages[0]?.attachments[0]?.attachmentId;

    const rest = await executeTool(stack, 'gmail_get_attachment_by_id', {
      message_id: id,
      attachment_id: attachmentId,
    });
    expect(rest.status).toBe(200);
    expect(rest.bytes).toBeLessThan(10_485_760);
    expect(rest.body.data).toMatchObject({ filename: 'big.pdf', size: 20 * 1024 * 1024 });
    expect(rest.body.data.note).toMatch(/not returned/);
    expect(rest.body.data).not.toHaveProperty('data');

    const mcp = await mcpCall(stack, instanceUrl, 'gmail_get_attachment_by_id', {
      message_id: id,
      attachment_id: attachmentId,
    });
    expect(mcp.result.isError).toBeFalsy();
    expect(mcp.bytes).toBeLessThan(10_485_760);
    expect(mcp.result.content[0]?.text).toContain('"note"');
  });
});

describe('the tool result limit', () => {
  it('replaces a result over SWITCHBOARD_MAX_TOOL_RESULT_BYTES with tool_result_too_large, never a partial one', async () => {
    const stack = await startStack({ env: { SWITCHBOARD_MAX_TOOL_RESULT_BYTES: '1024' } });
    try {
      await stack.createConnection('MY_GMAIL', 'gmail');
      await stack.connectAccount('MY_GMAIL', 'john-doe', JOHN);
      // A tool that reads one answer; gmail_fetch_mails answers with the messages that fit instead.
      const answer = await executeTool(stack, 'gmail_list_labels', {});
      expect(answer.status).toBe(502);
      expect(answer.body.error.code).toBe('tool_result_too_large');
      expect(answer.body.error.message).toMatch(/over this server's limit of 1024 bytes/);
      expect(answer.body).not.toHaveProperty('data');
    } finally {
      await stack.close();
    }
  });

  it('lets gmail_fetch_mails answer the messages that fit under SWITCHBOARD_MAX_TOOL_RESULT_BYTES, flagged truncated', async () => {
    const stack = await startStack({ env: { SWITCHBOARD_MAX_TOOL_RESULT_BYTES: '4096' } });
    try {
      await stack.createConnection('MY_GMAIL', 'gmail');
      await stack.connectAccount('MY_GMAIL', 'john-doe', JOHN);
      const answer = await executeTool(stack, 'gmail_fetch_mails', { max_results: 20 });
      expect(answer.status).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(answer.body.data))).toBeLessThanOrEqual(4096);
      expect(answer.body.data.messages.length).toBeGreaterThan(0);
      expect(answer.body.data).toMatchObject({ truncated: true, omittedMessageIds: expect.any(Array) });
    } finally {
      await stack.close();
    }
  });
});
