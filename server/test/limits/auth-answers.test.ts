import { createServer, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { OidcUpstream } from '../../src/mcp-auth/oidc-upstream.js';
import { AnswerTooLargeError, boundedFetch, MAX_AUTH_ANSWER_BYTES } from '../../src/oauth/bounded-fetch.js';
import { manualClock } from '../support/clock.js';
import { listenOnLoopback } from '../support/loopback.js';
import { type Stack, startStack } from '../support/stack.js';

/** How a test's authorization server answers a request. */
type Answer = (response: ServerResponse) => void;

/**
 * An authorization server on 127.0.0.1 whose answer each test sets. It records, per request,
 * how many body bytes it got onto the socket and whether the client let the connection go.
 */
async function authorizationServer() {
  let answer: Answer = (response) => response.end();
  const seen: { written: number; closed: Promise<void> }[] = [];
  const server = createServer((_request, response) => {
    const record = { written: 0, closed: new Promise<void>((done) => response.on('close', done)) };
    seen.push(record);
    const write = response.write.bind(response);
    response.write = ((chunk: Buffer, ...rest: never[]) => {
      record.written += chunk.length;
      return write(chunk, ...rest);
    }) as typeof response.write;
    answer(response);
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    seen,
    answer(next: Answer) {
      answer = next;
    },
    close,
  };
}

/** Writes 16 KiB chunks for as long as the client reads them. */
const endless: Answer = (response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(16 * 1024, 0x20);
  const more = () => {
    while (!response.destroyed && response.write(chunk));
  };
  response.on('drain', more);
  response.write('{"access_token":"');
  more();
};

describe('boundedFetch, over a real socket', () => {
  const LIMIT = 64 * 1024;
  let upstream: Awaited<ReturnType<typeof authorizationServer>>;
  const bounded = boundedFetch(fetch, LIMIT);
  beforeAll(async () => {
    upstream = await authorizationServer();
  });
  afterAll(() => upstream?.close());

  it('passes an answer of exactly the limit through whole, with its status and headers', async () => {
    const body = Buffer.alloc(LIMIT, 0x61);
    upstream.answer((response) => {
      // Chunked (no Content-Length), so it is the counting that lets it through.
      response.writeHead(201, { 'x-answer': 'kept' });
      response.write(body.subarray(0, 1000));
      response.end(body.subarray(1000));
    });
    const response = await bounded(`${upstream.url}/token`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-answer')).toBe('kept');
    expect(response.headers.get('content-length')).toBeNull();
    expect((await response.text()).length).toBe(LIMIT);
  });

  it('passes an answer without a body', async () => {
    upstream.answer((response) => {
      response.writeHead(204);
      response.end();
    });
    const response = await bounded(`${upstream.url}/revoke`, { method: 'POST' });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('refuses a declared Content-Length over the limit before reading the body, and lets the connection go', async () => {
    upstream.answer((response) => {
      // Promises one byte too many, sends a few, and never finishes: only a refusal unread returns.
      response.writeHead(200, { 'content-length': String(LIMIT + 1), 'content-type': 'application/json' });
      response.write('{"access_token":"');
    });
    const error = await bounded(`${upstream.url}/token`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AnswerTooLargeError);
    expect(error).toMatchObject({ code: 'provider_error', details: { max_answer_bytes: LIMIT } });
    await upstream.seen.at(-1)?.closed;
  });

  it('cuts an endless chunked answer off once past the limit, and lets the connection go', async () => {
    upstream.answer(endless);
    const response = await bounded(`${upstream.url}/token`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toBeInstanceOf(AnswerTooLargeError);
    const seen = upstream.seen.at(-1);
    await seen?.closed;
    // The rest was never asked for: what the server wrote is what the socket buffers held.
    expect(seen?.written).toBeLessThan(64 * LIMIT);
  });

  it('counts a compressed answer as it expands, not as it was sent', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * LIMIT, 0x20));
    expect(bomb.length).toBeLessThan(LIMIT / 8);
    upstream.answer((response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': String(bomb.length),
      });
      response.end(bomb);
    });
    const response = await bounded(`${upstream.url}/keys`);
    await expect(response.json()).rejects.toBeInstanceOf(AnswerTooLargeError);
  });
});

describe('an OpenID Connect issuer whose key set answers without end', () => {
  let issuer: Awaited<ReturnType<typeof authorizationServer>>;
  beforeAll(async () => {
    issuer = await authorizationServer();
  });
  afterAll(() => issuer?.close());

  it('fails the sign-in with server_error once the key set passes the limit, and lets the connection go', async () => {
    issuer.answer((response) => {
      if (response.req.url === '/.well-known/openid-configuration') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            issuer: issuer.url,
            authorization_endpoint: `${issuer.url}/authorize`,
            token_endpoint: `${issuer.url}/token`,
            jwks_uri: `${issuer.url}/certs`,
          }),
        );
      } else endless(response);
    });
    const config = loadConfig({
      SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: issuer.url,
      SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: 'switchboard-mcp-login',
    });
    const upstream = new OidcUpstream({ config, clock: manualClock(), fetch });
    const error = await upstream
      .authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'server_error', message: 'the OpenID Connect issuer could not be reached' });
    expect((error as Error).cause).toBeInstanceOf(AnswerTooLargeError);
    const keys = issuer.seen.at(-1);
    await keys?.closed;
    expect(keys?.written).toBeGreaterThan(MAX_AUTH_ANSWER_BYTES);
  });
});

describe('a provider whose token endpoint answers without end', () => {
  const clock = manualClock(Date.now());
  let upstream: Awaited<ReturnType<typeof authorizationServer>>;
  let stack: Stack;
  /** While set, token calls go to the test's server instead of the sandbox. */
  let hostile = false;
  let logged = '';
  beforeAll(async () => {
    upstream = await authorizationServer();
    upstream.answer(endless);
    const routed: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (hostile && url.pathname === '/token') return fetch(`${upstream.url}/token`, init);
      return stack.fetch(input, init);
    };
    const logs = new PassThrough();
    logs.on('data', (line: Buffer) => {
      logged += line.toString();
    });
    stack = await startStack({ clock, fetch: routed, env: { SWITCHBOARD_LOG_LEVEL: 'warn' }, logs });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterEach(() => {
    hostile = false;
  });
  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });

  const fetchMails = (identifier: string) =>
    stack.api<{ error?: { code: string; message: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier,
      params: { max_results: 1 },
    });
  const statusOf = async (identifier: string) =>
    (
      await stack.db.db
        .selectFrom('connected_accounts')
        .select('status')
        .where('identifier', '=', identifier)
        .executeTakeFirstOrThrow()
    ).status;

  it('fails the consent with provider_error once the answer passes the limit, and a new consent connects', async () => {
    const link = await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_GMAIL',
      identifier: 'alice',
    });
    hostile = true;
    const callback = await stack.consent(link.body.link);
    expect(callback.status).toBe(502);
    expect(await callback.text()).toContain('The provider could not complete the sign-in');
    // The person sees that the provider failed; the operator's log says how.
    expect(logged).toMatch(/authorization code exchange failed/);
    expect(logged).toContain(`larger than ${MAX_AUTH_ANSWER_BYTES} bytes`);
    const seen = upstream.seen.at(-1);
    await seen?.closed;
    expect(seen?.written).toBeGreaterThan(MAX_AUTH_ANSWER_BYTES);
    expect(await statusOf('alice')).not.toBe('ACTIVE');

    hostile = false;
    await stack.connectAccount('MY_GMAIL', 'alice');
    expect(await statusOf('alice')).toBe('ACTIVE');
    expect((await fetchMails('alice')).status).toBe(200);
  });

  it('fails a call whose refresh answer passes the limit with provider_error, keeps the account, and refreshes next time', async () => {
    await stack.connectAccount('MY_GMAIL', 'bob');
    clock.advance(2 * 3600_000);
    hostile = true;
    const failed = await fetchMails('bob');
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'provider_error' });
    expect(failed.body.error?.message).toContain(`larger than ${MAX_AUTH_ANSWER_BYTES} bytes`);
    await upstream.seen.at(-1)?.closed;
    expect(await statusOf('bob')).toBe('ACTIVE');

    hostile = false;
    expect((await fetchMails('bob')).status).toBe(200);
  });
});
