import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError, ProviderError } from '../src/errors.js';
import {
  createProviderClient,
  forwardToProvider,
  type ProviderClientOptions,
  parseRetryAfter,
} from '../src/execution/provider-client.js';
import { createProviderTransport } from '../src/execution/provider-transport.js';
import type { ProviderRequest } from '../src/providers/types.js';
import { freePort, type LoopbackServer, serveOnLoopback } from './support/loopback.js';

/**
 * The provider edge's rules, each pinned against a real local HTTP server: declared hosts and
 * paths, the token added here only, one refresh on 401, which failures are retried for which
 * methods and how long it waits, timeouts and cancellation, and how answers are read.
 */

/** A provider no catalog entry serves: its answers are read by HTTP status alone. */
const ORIGIN = 'https://api.example.test';
const GMAIL = 'https://gmail.googleapis.com';
const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);

interface Hit {
  method: string;
  path: string;
  authorization: string | null;
  accept: string | null;
  contentType: string | null;
  extra: string | null;
  body: string;
}

type Answer = (request: Request) => Response | Promise<Response>;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
/** A body sent without any content-type header (a byte body gets none). */
const untyped =
  (text: string): Answer =>
  () =>
    new Response(new TextEncoder().encode(text));
/** A failure whose body says nothing the status does not. */
const status = (code: number, headers: Record<string, string> = {}): Answer => json(code, { failed: code }, headers);
/** Headers at once, then the body never finishes before `ms` (or the client gives up). */
const slowBody =
  (ms: number, status = 200): Answer =>
  () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"partial":'));
          setTimeout(() => {
            try {
              controller.enqueue(new TextEncoder().encode('true}'));
              controller.close();
            } catch {
              // the client went away
            }
          }, ms);
        },
      }),
      { status, headers: { 'content-type': 'application/json' } },
    );
/** Headers and part of the body, then the connection drops. */
const cutOff: Answer = () =>
  new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"partial":'));
        setTimeout(() => controller.error(new Error('connection lost')), 20);
      },
    }),
    { headers: { 'content-type': 'application/json' } },
  );
/** No answer before `ms`. */
const silent =
  (ms: number): Answer =>
  () =>
    new Promise((resolve) => setTimeout(() => resolve(new Response('late')), ms));

describe('the provider client (provider-client.ts) against a local HTTP server', () => {
  let server: LoopbackServer;
  const transport = createProviderTransport();
  const hits: Hit[] = [];
  /** Answers by path: each hit takes the next one, the last one repeats. */
  const script = new Map<string, Answer[]>();

  beforeAll(async () => {
    server = await serveOnLoopback(async (request) => {
      const url = new URL(request.url);
      hits.push({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        authorization: request.headers.get('authorization'),
        accept: request.headers.get('accept'),
        contentType: request.headers.get('content-type'),
        extra: request.headers.get('x-extra'),
        body: await request.text(),
      });
      const answers = script.get(url.pathname);
      if (!answers) return json(200, { path: url.pathname })(request);
      const next = answers.length > 1 ? (answers.shift() as Answer) : (answers[0] as Answer);
      return next(request);
    });
  });
  afterAll(async () => {
    await transport.close();
    await server.close();
  });
  afterEach(() => {
    hits.length = 0;
    script.clear();
    vi.restoreAllMocks();
  });

  const answer = (path: string, ...answers: Answer[]) => script.set(`/base${path}`, answers);

  /** A client for ORIGIN aimed at the local server; records token requests and waits. */
  function client(overrides: Partial<ProviderClientOptions> = {}) {
    const tokenAsks: boolean[] = [];
    const sleeps: number[] = [];
    const options: ProviderClientOptions = {
      fetch: transport,
      apiOrigins: [ORIGIN],
      sandboxBaseUrl: `${server.url}/base`,
      timeoutMs: 2_000,
      clock: { now: () => NOW },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      getAccessToken: async ({ forceRefresh }) => {
        tokenAsks.push(forceRefresh);
        return `token-${tokenAsks.length}`;
      },
      ...overrides,
    };
    const api = createProviderClient(options);
    return { api, options, tokenAsks, sleeps };
  }

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
      },
      (error: unknown) => error as ProviderError,
    );

  /** The parts of a failure the agent and the logs see. */
  const seen = (error: ProviderError) => ({
    name: error.constructor.name,
    code: error.code,
    message: error.message,
    providerStatus: error.providerStatus,
    details: error.details,
  });

  describe('what it sends', () => {
    it("sends a GET with the user's token, accept JSON and no body, and returns the parsed JSON", async () => {
      const { api, tokenAsks } = client();
      answer('/v1/items', json(200, { items: [1, 2] }));
      await expect(api.request({ url: `${ORIGIN}/v1/items` })).resolves.toEqual({ items: [1, 2] });
      expect(hits).toEqual([
        {
          method: 'GET',
          path: '/base/v1/items',
          authorization: 'Bearer token-1',
          accept: 'application/json',
          contentType: null,
          extra: null,
          body: '',
        },
      ]);
      expect(tokenAsks).toEqual([false]);
    });

    it('serializes a JSON body with its content type, sends a raw body with its own, and keeps its own token over a header the tool set', async () => {
      const { api } = client();
      await api.request({ method: 'POST', url: `${ORIGIN}/v1/items`, body: { a: 1 } });
      await api.request({
        method: 'PUT',
        url: `${ORIGIN}/v1/upload`,
        rawBody: { contentType: 'message/rfc822', data: 'Subject: hi\r\n\r\nbody' },
        body: { ignored: true },
        headers: { accept: 'text/plain', 'x-extra': 'yes', authorization: 'Bearer stolen' },
      });
      expect(hits).toEqual([
        {
          method: 'POST',
          path: '/base/v1/items',
          authorization: 'Bearer token-1',
          accept: 'application/json',
          contentType: 'application/json',
          extra: null,
          body: '{"a":1}',
        },
        {
          method: 'PUT',
          path: '/base/v1/upload',
          authorization: 'Bearer token-2',
          accept: 'text/plain',
          contentType: 'message/rfc822',
          extra: 'yes',
          body: 'Subject: hi\r\n\r\nbody',
        },
      ]);
    });

    it("rewrites the declared origin onto the sandbox's base URL, trailing slashes dropped, keeping path, query and parameters", async () => {
      const { api } = client({ sandboxBaseUrl: `${server.url}/base//` });
      await api.request({
        url: `${ORIGIN}/v1/items?x=1&keep=y`,
        query: { x: 2, n: 3, flag: false, skip: undefined, ids: ['a', 'b'] },
      });
      await api.request({ url: `${ORIGIN}/v1/plain?only=1` });
      expect(hits.map((hit) => hit.path)).toEqual([
        '/base/v1/items?x=2&keep=y&n=3&flag=false&ids=a&ids=b',
        '/base/v1/plain?only=1',
      ]);
    });

    it('calls the declared origin itself for a connection that does not target the sandbox', async () => {
      const { api } = client({ apiOrigins: [server.url], sandboxBaseUrl: undefined });
      await expect(api.request({ url: `${server.url}/direct/call?x=1`, query: { y: 'z' } })).resolves.toEqual({
        path: '/direct/call',
      });
      expect(hits.map((hit) => hit.path)).toEqual(['/direct/call?x=1&y=z']);
    });
  });

  describe('what it refuses before sending anything', () => {
    it('refuses a host the provider does not declare, another scheme or port of a declared one, and an unparsable URL', async () => {
      const { api, tokenAsks } = client();
      const refusals = await Promise.all(
        [
          'https://evil.example/steal',
          'http://api.example.test/v1',
          'https://api.example.test:8443/v1',
          'not a url',
        ].map((url) => failureOf(api.request({ url })).then(seen)),
      );
      const refused = (message: string) => ({
        name: 'ProviderError',
        code: 'provider_host_not_allowed',
        message,
        providerStatus: undefined,
        details: undefined,
      });
      expect(refusals).toEqual([
        refused('the provider does not declare the host evil.example'),
        refused('the provider does not declare the host api.example.test'),
        refused('the provider does not declare the host api.example.test:8443'),
        refused('the tool built an invalid provider URL'),
      ]);
      expect(hits).toEqual([]);
      expect(tokenAsks).toEqual([]);
      expect((await failureOf(api.request({ url: 'not a url' }))).cause).toBeInstanceOf(TypeError);
    });

    it('refuses a path that climbs or drops a segment, in any spelling, as invalid tool input', async () => {
      const { api, tokenAsks } = client();
      // A tab or newline inside a segment is dropped by the URL parser: '.\n.' is '..' once sent.
      const paths = [
        '/v1/../admin',
        '/v1/./x',
        '/v1/%2e%2E/admin',
        '/v1/%2E',
        '/v1\\admin',
        '/..',
        '/v1/.',
        '/v1/.\n./admin',
        '/v1/\t../admin',
        '/v1/.\r/x',
      ];
      for (const path of paths) {
        const error = await failureOf(api.request({ url: `${ORIGIN}${path}` }));
        expect(error, path).toBeInstanceOf(AppError);
        expect(error, path).not.toBeInstanceOf(ProviderError);
        expect({ code: error.code, message: error.message }, path).toEqual({
          code: 'tool_input_invalid',
          message: 'a value in the provider URL path is not a valid id (".", ".." or a backslash)',
        });
      }
      expect(hits).toEqual([]);
      expect(tokenAsks).toEqual([]);
    });

    it('lets dots inside a segment, and dots or backslashes in the query, through', async () => {
      const { api } = client();
      await api.request({ url: `${ORIGIN}/v1/a..b/.x/x./...?q=/../a%5Cb` });
      await api.request({ url: `${ORIGIN}/v1/x?q=..\\..` });
      expect(hits.map((hit) => hit.path)).toEqual(['/base/v1/a..b/.x/x./...?q=/../a%5Cb', '/base/v1/x?q=..\\..']);
    });
  });

  describe('how it reads an answer', () => {
    it('reads an empty answer as undefined, JSON by its content type or its first character, anything else as text', async () => {
      const { api } = client();
      const cases: [Answer, unknown][] = [
        [() => new Response(null, { status: 204 }), undefined],
        [json(200, { a: 1 }), { a: 1 }],
        [() => new Response('null', { headers: { 'content-type': 'application/problem+json' } }), null],
        [untyped('  \n[1,2]'), [1, 2]],
        [untyped('{"a":1}'), { a: 1 }],
        [untyped('{"a":'), '{"a":'],
        [() => new Response('{not json', { headers: { 'content-type': 'application/json' } }), '{not json'],
        [() => new Response('123', { headers: { 'content-type': 'text/plain' } }), '123'],
        [untyped('hello {"a":1}'), 'hello {"a":1}'],
        // JSON, but not an object or array, and sent as text: left as text.
        [untyped('"a{"'), '"a{"'],
      ];
      const read = [];
      for (const [respond] of cases) {
        answer('/v1/read', respond);
        read.push(await api.request({ url: `${ORIGIN}/v1/read` }));
      }
      expect(read).toEqual(cases.map(([, expected]) => expected));
    });

    it("takes a failure's message from an OAuth-style error body, else from its status", async () => {
      const { api } = client();
      answer('/v1/a', json(400, { error: 'invalid_request', error_description: 'bad page token' }));
      answer('/v1/b', () => new Response('not json', { status: 404 }));
      expect(seen(await failureOf(api.request({ url: `${ORIGIN}/v1/a` })))).toEqual({
        name: 'ProviderError',
        code: 'provider_bad_request',
        message: 'bad page token',
        providerStatus: 400,
        details: { provider_status: 400 },
      });
      expect(seen(await failureOf(api.request({ url: `${ORIGIN}/v1/b` })))).toEqual({
        name: 'ProviderError',
        code: 'provider_not_found',
        message: 'the provider answered HTTP 404',
        providerStatus: 404,
        details: { provider_status: 404 },
      });
    });

    it("reads a catalog provider's answers with its errors hook unless the client is given its own reading", async () => {
      const quota = json(403, { error: { code: 403, message: 'Quota', errors: [{ reason: 'rateLimitExceeded' }] } });
      // Left out: the provider serving the origin (Gmail) reads the 403 as a quota.
      const google = client({ apiOrigins: [GMAIL], maxRetries: 0 });
      answer('/gmail/v1/x', quota);
      expect(seen(await failureOf(google.api.request({ url: `${GMAIL}/gmail/v1/x` })))).toMatchObject({
        code: 'provider_rate_limited',
        message: 'Quota',
      });
      // Given as undefined: the status alone.
      const plain = client({ apiOrigins: [GMAIL], classifyError: undefined, maxRetries: 0 });
      expect(seen(await failureOf(plain.api.request({ url: `${GMAIL}/gmail/v1/x` })))).toMatchObject({
        code: 'provider_forbidden',
        message: 'the provider answered HTTP 403',
      });
      // A hook that has nothing to say about an answer leaves it to the status.
      const partial = client({ classifyError: ({ status }) => (status === 418 ? undefined : undefined) });
      answer('/v1/teapot', status(418));
      expect((await failureOf(partial.api.request({ url: `${ORIGIN}/v1/teapot` }))).code).toBe('provider_bad_request');
    });

    it('reads a failure hidden in a 200 through the hook, and returns the body when the hook finds none', async () => {
      const { api } = client({
        classifyError: ({ body }) =>
          (body as { ok?: boolean }).ok === false
            ? { code: 'provider_not_found', message: 'said not found' }
            : undefined,
      });
      answer('/v1/fail', json(200, { ok: false }));
      answer('/v1/fine', json(200, { ok: true }));
      expect(seen(await failureOf(api.request({ method: 'POST', url: `${ORIGIN}/v1/fail` })))).toEqual({
        name: 'ProviderError',
        code: 'provider_not_found',
        message: 'said not found',
        providerStatus: 200,
        details: { provider_status: 200 },
      });
      await expect(api.request({ url: `${ORIGIN}/v1/fine` })).resolves.toEqual({ ok: true });
    });
  });

  describe('401: one fresh token', () => {
    it('asks for a fresh token once after a 401 and succeeds with it', async () => {
      const { api, tokenAsks } = client();
      answer('/v1/me', status(401), json(200, { me: true }));
      await expect(api.request({ url: `${ORIGIN}/v1/me` })).resolves.toEqual({ me: true });
      expect(tokenAsks).toEqual([false, true]);
      expect(hits.map((hit) => hit.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    });

    it('fails with provider_unauthorized after the second 401, and names no token', async () => {
      const { api, tokenAsks } = client();
      answer('/v1/me', json(401, { error: { code: 401, message: 'Invalid Credentials' } }));
      const error = await failureOf(api.request({ method: 'POST', url: `${ORIGIN}/v1/me` }));
      expect(seen(error)).toEqual({
        name: 'ProviderError',
        code: 'provider_unauthorized',
        message: 'the provider answered HTTP 401',
        providerStatus: 401,
        details: { provider_status: 401 },
      });
      expect(tokenAsks).toEqual([false, true]);
      expect(hits).toHaveLength(2);
      expect(JSON.stringify(seen(error))).not.toMatch(/token-\d/);
    });

    it('does not count the refresh as a retry: a GET that then gets 500s is still retried twice', async () => {
      const { api, tokenAsks } = client();
      answer('/v1/me', status(401), status(500));
      const error = await failureOf(api.request({ url: `${ORIGIN}/v1/me` }));
      expect(seen(error)).toMatchObject({
        code: 'provider_unavailable',
        details: { provider_status: 500, attempts: 3 },
      });
      expect(hits).toHaveLength(4);
      expect(tokenAsks).toEqual([false, true, true, true]);
    });
  });

  describe('retries', () => {
    it('retries a 500 of a GET, PUT or DELETE twice, then fails with the status and the number of attempts', async () => {
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        const { api, sleeps } = client();
        answer('/v1/x', status(500));
        hits.length = 0;
        expect(seen(await failureOf(api.request({ method, url: `${ORIGIN}/v1/x` }))), method).toEqual({
          name: 'ProviderError',
          code: 'provider_unavailable',
          message: 'the provider answered HTTP 500',
          providerStatus: 500,
          details: { provider_status: 500, attempts: 3 },
        });
        expect(hits.length, method).toBe(3);
        expect(sleeps.length, method).toBe(2);
      }
    });

    it('never retries a POST or PATCH that got a 500, 502 or 504: it may have taken effect', async () => {
      for (const method of ['POST', 'PATCH'] as const) {
        for (const code of [500, 502, 504]) {
          const { api, sleeps } = client();
          answer('/v1/x', status(code));
          hits.length = 0;
          expect(seen(await failureOf(api.request({ method, url: `${ORIGIN}/v1/x` })))).toEqual({
            name: 'ProviderError',
            code: 'provider_unavailable',
            message: `the provider answered HTTP ${code}`,
            providerStatus: code,
            details: { provider_status: code },
          });
          expect(hits.length, `${method} ${code}`).toBe(1);
          expect(sleeps, `${method} ${code}`).toEqual([]);
        }
      }
    });

    it('retries a GET on 502, 503 and 504 until it succeeds, but not on 501', async () => {
      for (const code of [502, 503, 504]) {
        const { api } = client();
        answer('/v1/x', status(code), status(code), json(200, { code }));
        hits.length = 0;
        await expect(api.request({ url: `${ORIGIN}/v1/x` })).resolves.toEqual({ code });
        expect(hits.length, String(code)).toBe(3);
      }
      const { api } = client();
      answer('/v1/x', status(501));
      hits.length = 0;
      expect((await failureOf(api.request({ url: `${ORIGIN}/v1/x` }))).details).toEqual({ provider_status: 501 });
      expect(hits).toHaveLength(1);
    });

    it('retries a POST that got a 429 or a 503: the provider refused it before acting', async () => {
      for (const code of [429, 503]) {
        const { api } = client();
        answer('/v1/send', status(code), json(200, { sent: code }));
        hits.length = 0;
        await expect(api.request({ method: 'POST', url: `${ORIGIN}/v1/send`, body: {} })).resolves.toEqual({
          sent: code,
        });
        expect(hits.length, String(code)).toBe(2);
      }
      const { api } = client();
      answer('/v1/send', status(429));
      hits.length = 0;
      expect(seen(await failureOf(api.request({ method: 'POST', url: `${ORIGIN}/v1/send` })))).toEqual({
        name: 'ProviderError',
        code: 'provider_rate_limited',
        message: 'the provider answered HTTP 429',
        providerStatus: 429,
        details: { provider_status: 429, attempts: 3 },
      });
      expect(hits).toHaveLength(3);
    });

    it('retries a POST on a 429 even when the hook reads it otherwise, and on any answer the hook reads as rate limited', async () => {
      const otherwise = client({ classifyError: () => ({ code: 'provider_bad_request', message: 'odd' }) });
      answer('/v1/send', status(429), json(200, { ok: true }));
      await expect(otherwise.api.request({ method: 'POST', url: `${ORIGIN}/v1/send` })).rejects.toMatchObject({
        code: 'provider_bad_request',
        details: { provider_status: 200, attempts: 2 },
      });
      expect(hits).toHaveLength(2);

      hits.length = 0;
      const google = client({ apiOrigins: [GMAIL] });
      answer(
        '/gmail/v1/send',
        json(403, { error: { code: 403, message: 'Slow down', errors: [{ reason: 'userRateLimitExceeded' }] } }),
        json(200, { id: 'm1' }),
      );
      await expect(google.api.request({ method: 'POST', url: `${GMAIL}/gmail/v1/send` })).resolves.toEqual({
        id: 'm1',
      });
      expect(hits).toHaveLength(2);

      hits.length = 0;
      const hidden = client({
        classifyError: ({ body }) =>
          (body as { error?: string }).error === 'ratelimited'
            ? { code: 'provider_rate_limited', message: 'rate limited' }
            : undefined,
      });
      answer('/v1/post', json(200, { error: 'ratelimited' }), json(200, { ok: true }));
      await expect(hidden.api.request({ method: 'POST', url: `${ORIGIN}/v1/post` })).resolves.toEqual({ ok: true });
      expect(hits).toHaveLength(2);
    });

    it('never retries a failure that is neither a 429, a 5xx nor rate limited', async () => {
      for (const code of [400, 403, 404, 409]) {
        const { api } = client();
        answer('/v1/x', status(code));
        hits.length = 0;
        expect((await failureOf(api.request({ url: `${ORIGIN}/v1/x` }))).details).toEqual({ provider_status: code });
        expect(hits.length, String(code)).toBe(1);
      }
    });

    it('makes maxRetries retries at most', async () => {
      for (const maxRetries of [0, 1, 3]) {
        const { api, sleeps } = client({ maxRetries });
        answer('/v1/x', status(503));
        hits.length = 0;
        const error = await failureOf(api.request({ url: `${ORIGIN}/v1/x` }));
        expect(hits.length, String(maxRetries)).toBe(maxRetries + 1);
        expect(sleeps.length, String(maxRetries)).toBe(maxRetries);
        expect(error.details).toEqual(
          maxRetries ? { provider_status: 503, attempts: maxRetries + 1 } : { provider_status: 503 },
        );
      }
    });

    it('waits as long as Retry-After says, in seconds or as an HTTP date, up to maxRetryAfterMs inclusive', async () => {
      const waits: Record<string, number[]> = {};
      for (const retryAfter of [
        '3',
        ' 7 ',
        new Date(NOW + 4_000).toUTCString(),
        new Date(NOW - 60_000).toUTCString(),
      ]) {
        const { api, sleeps } = client({ maxRetryAfterMs: 8_000 });
        answer('/v1/x', status(429, { 'retry-after': retryAfter }), json(200, {}));
        await api.request({ url: `${ORIGIN}/v1/x` });
        waits[retryAfter] = sleeps;
      }
      expect(Object.values(waits)).toEqual([[3_000], [7_000], [4_000], [0]]);

      const { api, sleeps } = client({ maxRetryAfterMs: 5_000 });
      answer('/v1/x', status(503, { 'retry-after': '5' }), json(200, {}));
      await api.request({ url: `${ORIGIN}/v1/x` });
      expect(sleeps).toEqual([5_000]);
    });

    it('gives up at once when Retry-After asks for longer than it waits (10 s unless configured)', async () => {
      for (const [retryAfter, options] of [
        ['11', {}],
        ['6', { maxRetryAfterMs: 5_000 }],
      ] as const) {
        const { api, sleeps } = client(options);
        answer('/v1/x', status(429, { 'retry-after': retryAfter }));
        hits.length = 0;
        expect(seen(await failureOf(api.request({ url: `${ORIGIN}/v1/x` })))).toEqual({
          name: 'ProviderError',
          code: 'provider_rate_limited',
          message: 'the provider answered HTTP 429',
          providerStatus: 429,
          details: { provider_status: 429 },
        });
        expect(hits).toHaveLength(1);
        expect(sleeps).toEqual([]);
      }
      const { api, sleeps } = client();
      answer('/v1/x', status(429, { 'retry-after': '10' }), json(200, {}));
      await api.request({ url: `${ORIGIN}/v1/x` });
      expect(sleeps).toEqual([10_000]);
    });

    it('backs off 200 ms, 400 ms, 800 ms … capped at 5 s, with jitter over the upper half, when no Retry-After is given', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const { api, sleeps } = client({ maxRetries: 7 });
      answer('/v1/x', status(503), status(503, { 'retry-after': 'soon' }));
      await failureOf(api.request({ url: `${ORIGIN}/v1/x` }));
      expect(sleeps).toEqual([150, 300, 600, 1_200, 2_400, 3_750, 3_750]);

      vi.spyOn(Math, 'random').mockReturnValue(0);
      const low = client({ maxRetries: 2 });
      await failureOf(low.api.request({ url: `${ORIGIN}/v1/x` }));
      expect(low.sleeps).toEqual([100, 200]);
    });

    it('waits for the real time when no sleep is given', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0);
      const { api } = client({ sleep: undefined, maxRetries: 1 });
      answer('/v1/x', status(503), json(200, { late: true }));
      const started = performance.now();
      await expect(api.request({ url: `${ORIGIN}/v1/x` })).resolves.toEqual({ late: true });
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    });
  });

  describe('no answer', () => {
    it('retries a GET that could not reach the provider, but not a POST, and says so', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const closed = `http://127.0.0.1:${await freePort()}`;
      const get = client({ apiOrigins: [closed], sandboxBaseUrl: undefined });
      const error = await failureOf(get.api.request({ url: `${closed}/v1/x` }));
      expect(seen(error)).toEqual({
        name: 'ProviderError',
        code: 'provider_unavailable',
        message: 'the provider could not be reached',
        providerStatus: undefined,
        details: undefined,
      });
      expect(error.cause).toBeInstanceOf(Error);
      expect(get.sleeps).toEqual([150, 300]);
      expect(get.tokenAsks).toEqual([false, false, false]);

      const post = client({ apiOrigins: [closed], sandboxBaseUrl: undefined });
      expect((await failureOf(post.api.request({ method: 'POST', url: `${closed}/v1/x` }))).code).toBe(
        'provider_unavailable',
      );
      expect(post.sleeps).toEqual([]);
      expect(post.tokenAsks).toEqual([false]);

      const once = client({ apiOrigins: [closed], sandboxBaseUrl: undefined, maxRetries: 1 });
      await failureOf(once.api.request({ url: `${closed}/v1/x` }));
      expect(once.tokenAsks).toHaveLength(2);
    });

    it('refuses to follow a redirect, even to the same provider', async () => {
      const { api } = client();
      answer('/v1/moved', () => new Response(null, { status: 302, headers: { location: '/base/v1/elsewhere' } }));
      const error = await failureOf(api.request({ method: 'POST', url: `${ORIGIN}/v1/moved` }));
      expect(error.code).toBe('provider_unavailable');
      expect(hits.map((hit) => hit.path)).toEqual(['/base/v1/moved']);
    });

    it('times out an attempt without an answer after timeoutMs, and does not retry it', async () => {
      const { api, tokenAsks } = client({ timeoutMs: 150 });
      answer('/v1/slow', silent(3_000));
      const started = performance.now();
      const error = await failureOf(api.request({ url: `${ORIGIN}/v1/slow` }));
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(seen(error)).toEqual({
        name: 'ProviderError',
        code: 'provider_timeout',
        message: 'the provider did not answer within 150 ms',
        providerStatus: undefined,
        details: undefined,
      });
      expect(error.cause).toMatchObject({ name: 'TimeoutError' });
      expect(tokenAsks).toEqual([false]);
      expect(hits).toHaveLength(1);
    });

    it("times out and stops a client's later requests as its first: an attempt that ended cleanly leaves nothing armed", async () => {
      const controller = new AbortController();
      const { api } = client({ timeoutMs: 200, signal: controller.signal, maxRetries: 0 });
      answer('/v1/slow', silent(3_000));
      // Two answered requests, one after the other, then one that never answers: its own timer fires.
      expect(await api.request({ url: `${ORIGIN}/v1/a` })).toEqual({ path: '/base/v1/a' });
      expect(await api.request({ url: `${ORIGIN}/v1/b` })).toEqual({ path: '/base/v1/b' });
      const started = performance.now();
      const timedOut = await failureOf(api.request({ url: `${ORIGIN}/v1/slow` }));
      expect([timedOut.code, timedOut.message]).toEqual([
        'provider_timeout',
        'the provider did not answer within 200 ms',
      ]);
      expect(performance.now() - started).toBeLessThan(1_500);
      // The earlier requests' timers are gone: answered requests outlive them undisturbed.
      answer('/v1/late', silent(300));
      expect(await api.request({ url: `${ORIGIN}/v1/c` })).toEqual({ path: '/base/v1/c' });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await api.request({ url: `${ORIGIN}/v1/d` })).toEqual({ path: '/base/v1/d' });
      // Concurrent requests of one client each get their own deadline and all see the call's abort
      // (at 50 ms, before their 200 ms deadlines, which would say so otherwise).
      const both = Promise.all([
        failureOf(api.request({ url: `${ORIGIN}/v1/slow` })),
        failureOf(api.request({ url: `${ORIGIN}/v1/slow` })),
      ]);
      setTimeout(() => controller.abort(new Error('gone')), 50);
      const cancelled = await both;
      expect(cancelled.map((error) => [error.code, error.message])).toEqual([
        ['cancelled', 'the call was cancelled'],
        ['cancelled', 'the call was cancelled'],
      ]);
    });

    it('reads an abort the transport reports as an AbortError as a timeout too', async () => {
      const { api, sleeps } = client({
        fetch: async () => {
          throw new DOMException('This operation was aborted', 'AbortError');
        },
      });
      const error = await failureOf(api.request({ url: `${ORIGIN}/v1/x` }));
      expect([error.code, error.message]).toEqual(['provider_timeout', 'the provider did not answer within 2000 ms']);
      expect(sleeps).toEqual([]);
    });

    it("stops at once when the call's own signal aborts, before or while waiting for the answer", async () => {
      const aborted = new AbortController();
      aborted.abort(new Error('gone'));
      const before = client({ signal: aborted.signal });
      const early = await failureOf(before.api.request({ url: `${ORIGIN}/v1/x` }));
      expect([early.code, early.message]).toEqual(['cancelled', 'the call was cancelled']);
      expect(early.cause).toBe(aborted.signal.reason);
      expect(hits).toEqual([]);

      const controller = new AbortController();
      const during = client({ signal: controller.signal, timeoutMs: 5_000 });
      answer('/v1/slow', silent(3_000));
      setTimeout(() => controller.abort(), 100);
      const started = performance.now();
      const late = await failureOf(during.api.request({ url: `${ORIGIN}/v1/slow` }));
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(seen(late)).toEqual({
        name: 'ProviderError',
        code: 'cancelled',
        message: 'the call was cancelled',
        providerStatus: undefined,
        details: undefined,
      });
      expect(during.tokenAsks).toEqual([false]);

      // The caller's deadline is not a hang-up: an AbortSignal.timeout() and a gRPC deadline
      // (a ConnectError of DEADLINE_EXCEEDED, as connect and grpc/unary.ts abort with) are timeouts.
      const deadlines = [
        AbortSignal.timeout(100),
        (() => {
          const grpc = new AbortController();
          setTimeout(() => grpc.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)), 100);
          return grpc.signal;
        })(),
      ];
      for (const signal of deadlines) {
        const { api } = client({ signal, timeoutMs: 5_000 });
        const timedOut = await failureOf(api.request({ url: `${ORIGIN}/v1/slow` }));
        expect([timedOut.code, timedOut.message]).toEqual([
          'provider_timeout',
          "the call's deadline passed before the provider answered",
        ]);
      }
      // A gRPC client's cancel is a hang-up.
      const cancelled = new AbortController();
      cancelled.abort(new ConnectError('the client cancelled the call', Code.Canceled));
      const gone = await failureOf(client({ signal: cancelled.signal }).api.request({ url: `${ORIGIN}/v1/x` }));
      expect(gone.code).toBe('cancelled');
    });

    it('times out an answer whose body does not finish in time, as provider_timeout', async () => {
      const { api } = client({ timeoutMs: 200, maxRetries: 0 });
      answer('/v1/trickle', slowBody(3_000));
      const error = await failureOf(api.request({ url: `${ORIGIN}/v1/trickle` }));
      expect(seen(error)).toEqual({
        name: 'ProviderError',
        code: 'provider_timeout',
        message: 'the provider did not answer within 200 ms',
        providerStatus: undefined,
        details: undefined,
      });
    });

    it('reads a success whose body is cut off as no answer: retried for a GET, not for a POST', async () => {
      const { api } = client();
      answer('/v1/cut', cutOff, json(200, { whole: true }));
      await expect(api.request({ url: `${ORIGIN}/v1/cut` })).resolves.toEqual({ whole: true });
      expect(hits).toHaveLength(2);

      answer('/v1/cut', cutOff);
      hits.length = 0;
      const error = await failureOf(api.request({ method: 'POST', url: `${ORIGIN}/v1/cut` }));
      expect([error.code, error.message]).toEqual(['provider_unavailable', 'the provider could not be reached']);
      expect(hits).toHaveLength(1);
    });

    it('reads a failure whose body does not finish in time by its status alone', async () => {
      const { api } = client({ timeoutMs: 200 });
      answer('/v1/trickle', slowBody(3_000, 404));
      const error = await failureOf(api.request({ url: `${ORIGIN}/v1/trickle` }));
      expect(seen(error)).toEqual({
        name: 'ProviderError',
        code: 'provider_not_found',
        message: 'the provider answered HTTP 404',
        providerStatus: 404,
        details: { provider_status: 404 },
      });
    });
  });

  describe('forwardToProvider (the SDKs’ own requests)', () => {
    const forward = (request: ProviderRequest, overrides: Partial<ProviderClientOptions> = {}) => {
      const made = client(overrides);
      return { answer: forwardToProvider(made.options, request), ...made };
    };

    it('hands back status, headers, the body as sent and the failure reading, without retrying', async () => {
      answer('/v1/x', () => new Response('{ "error" : "busy" }', { status: 503, headers: { 'retry-after': '9' } }));
      const { answer: forwarded, sleeps } = forward({ method: 'GET', url: `${ORIGIN}/v1/x`, query: { a: '1' } });
      const got = await forwarded;
      expect({ status: got.status, retryAfter: got.headers.get('retry-after'), body: got.body }).toEqual({
        status: 503,
        retryAfter: '9',
        body: '{ "error" : "busy" }',
      });
      expect(got.failure).toEqual({ code: 'provider_unavailable', message: 'busy' });
      expect(hits.map((hit) => [hit.path, hit.authorization])).toEqual([['/base/v1/x?a=1', 'Bearer token-1']]);
      expect(sleeps).toEqual([]);

      answer('/v1/ok', untyped('{"fine":true}'));
      const ok = await forward({ url: `${ORIGIN}/v1/ok` }).answer;
      expect([ok.status, ok.body, ok.failure]).toEqual([200, '{"fine":true}', undefined]);
    });

    it("reads the body for the provider's hook", async () => {
      answer('/gmail/v1/x', json(403, { error: { message: 'Quota', errors: [{ reason: 'rateLimitExceeded' }] } }));
      const got = await forward({ url: `${GMAIL}/gmail/v1/x` }, { apiOrigins: [GMAIL] }).answer;
      expect(got.failure).toEqual({ code: 'provider_rate_limited', message: 'Quota' });
      expect(hits).toHaveLength(1);
    });

    it('asks for a fresh token once after a 401, then hands back whatever came', async () => {
      answer('/v1/me', status(401), json(200, { me: 1 }));
      const fixed = forward({ url: `${ORIGIN}/v1/me` });
      expect((await fixed.answer).body).toBe('{"me":1}');
      expect(fixed.tokenAsks).toEqual([false, true]);

      answer('/v1/me', status(401));
      hits.length = 0;
      const still = forward({ method: 'POST', url: `${ORIGIN}/v1/me`, body: { x: 1 } });
      const got = await still.answer;
      expect([got.status, got.failure?.code]).toEqual([401, 'provider_unauthorized']);
      expect(still.tokenAsks).toEqual([false, true]);
      expect(hits.map((hit) => [hit.authorization, hit.body, hit.contentType])).toEqual([
        ['Bearer token-1', '{"x":1}', 'application/json'],
        ['Bearer token-2', '{"x":1}', 'application/json'],
      ]);
    });

    it('throws only when no answer came: unreachable, timed out or cancelled, each once', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const unreachable = forward({ url: `${closed}/v1/x` }, { apiOrigins: [closed], sandboxBaseUrl: undefined });
      await expect(unreachable.answer).rejects.toMatchObject({
        code: 'provider_unavailable',
        message: 'the provider could not be reached',
      });
      expect(unreachable.tokenAsks).toEqual([false]);

      answer('/v1/slow', silent(3_000));
      const slow = forward({ url: `${ORIGIN}/v1/slow` }, { timeoutMs: 150 });
      await expect(slow.answer).rejects.toMatchObject({
        code: 'provider_timeout',
        message: 'the provider did not answer within 150 ms',
      });
      answer('/v1/trickle', slowBody(3_000));
      await expect(forward({ url: `${ORIGIN}/v1/trickle` }, { timeoutMs: 150 }).answer).rejects.toMatchObject({
        code: 'provider_timeout',
      });
      const controller = new AbortController();
      controller.abort();
      await expect(forward({ url: `${ORIGIN}/v1/x` }, { signal: controller.signal }).answer).rejects.toMatchObject({
        code: 'cancelled',
        message: 'the call was cancelled',
      });
      await expect(forward({ url: 'https://evil.example/x' }).answer).rejects.toMatchObject({
        code: 'provider_host_not_allowed',
      });
    });
  });

  it('reads Retry-After as whole seconds or an HTTP date, and nothing else', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3_000);
    expect(parseRetryAfter(' 12 ', NOW)).toBe(12_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000);
    expect(parseRetryAfter(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('a5', NOW)).toBeUndefined();
    expect(parseRetryAfter('5a', NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });
});
