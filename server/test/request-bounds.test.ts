import { request as httpRequest } from 'node:http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isAppError } from '../src/errors.js';
import { readBodyBytes, readBodyText } from '../src/http/body.js';
import { clientAddress } from '../src/http/client-address.js';
import { jsonRpcError, RequestGuard } from '../src/mcp-endpoint/request-guard.js';
import { type LoopbackServer, serveOnLoopback } from './support/loopback.js';

const PUBLIC = { SWITCHBOARD_PUBLIC_URL: 'https://mcp.example.com', PORT: '8080' };

/** What the MCP endpoint hands the guard: the web Request as it arrived. */
const arriving = (headers: Record<string, string>, method = 'POST') =>
  new Request('http://127.0.0.1:8080/mcp/i/secret', { method, headers });

/** A response's status, headers and body, for comparing whole. */
async function answer(response: Response | undefined) {
  if (!response) return undefined;
  const text = await response.text();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/** The 403 the guard answers, with `message`. */
const forbidden = (message: string) => ({
  status: 403,
  headers: { 'cache-control': 'no-store', 'content-type': 'application/json' },
  body: { jsonrpc: '2.0', error: { code: -32000, message }, id: null },
});

const HOST_REFUSED = 'Forbidden: the Host header does not name this server';
const ORIGIN_REFUSED = (origin: string) =>
  `Forbidden: requests from the Origin ${origin} are not allowed; the operator can allow it with SWITCHBOARD_ALLOWED_ORIGINS=${origin} (comma-separated origins)`;
const UNREADABLE_ORIGIN_REFUSED =
  'Forbidden: requests from this Origin are not allowed; browser clients need an origin listed in SWITCHBOARD_ALLOWED_ORIGINS';

const CORS_FOR_APP = {
  'access-control-allow-origin': 'https://app.example',
  'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
  vary: 'origin',
};

describe('jsonRpcError', () => {
  it('answers a JSON-RPC error with no id, never cached, with the headers given', async () => {
    expect(await answer(jsonRpcError(404, -32001, 'MCP server not found', { vary: 'origin' }))).toEqual({
      status: 404,
      headers: { 'cache-control': 'no-store', 'content-type': 'application/json', vary: 'origin' },
      body: { jsonrpc: '2.0', error: { code: -32001, message: 'MCP server not found' }, id: null },
    });
  });
});

describe('RequestGuard: the Host header', () => {
  it('lets in a Host naming the public URL, or localhost or 127.0.0.1 at the port, in any case', () => {
    const guard = new RequestGuard(loadConfig(PUBLIC));
    for (const host of ['mcp.example.com', 'MCP.Example.COM', 'localhost:8080', 'LocalHost:8080', '127.0.0.1:8080']) {
      expect(guard.reject(arriving({ host })), host).toBeUndefined();
    }
  });

  it("lets in a Host that spells the public URL's default port, and no other port", async () => {
    const https = new RequestGuard(loadConfig(PUBLIC));
    for (const host of ['mcp.example.com:443', 'MCP.example.com:443']) {
      expect(https.reject(arriving({ host })), host).toBeUndefined();
    }
    for (const host of ['mcp.example.com:80', 'mcp.example.com:4430', 'evil.example:443', 'localhost:443']) {
      expect(await answer(https.reject(arriving({ host }))), host).toEqual(forbidden(HOST_REFUSED));
    }
    const http = new RequestGuard(loadConfig({ SWITCHBOARD_PUBLIC_URL: 'http://gw.example', PORT: '8080' }));
    expect(http.reject(arriving({ host: 'gw.example:80' }))).toBeUndefined();
    expect(await answer(http.reject(arriving({ host: 'gw.example:443' })))).toEqual(forbidden(HOST_REFUSED));
  });

  it('refuses with 403 a Host naming another server or port, an empty one, and none at all', async () => {
    const guard = new RequestGuard(loadConfig(PUBLIC));
    for (const host of ['evil.example', 'mcp.example.com.evil.example', 'localhost', 'localhost:3000', '']) {
      expect(await answer(guard.reject(arriving({ host }))), host).toEqual(forbidden(HOST_REFUSED));
    }
    expect(await answer(guard.reject(arriving({})))).toEqual(forbidden(HOST_REFUSED));
  });

  it('adds the hosts of SWITCHBOARD_ALLOWED_HOSTS, compared without case', async () => {
    const guard = new RequestGuard(
      loadConfig({ ...PUBLIC, SWITCHBOARD_ALLOWED_HOSTS: 'MCP.Internal:8443, gateway.example' }),
    );
    for (const host of ['mcp.internal:8443', 'MCP.INTERNAL:8443', 'GATEWAY.example', 'mcp.example.com']) {
      expect(guard.reject(arriving({ host })), host).toBeUndefined();
    }
    expect(await answer(guard.reject(arriving({ host: 'mcp.internal' })))).toEqual(forbidden(HOST_REFUSED));
  });

  it('checks the Host before the Origin, so even the own origin needs a Host naming this server', async () => {
    const guard = new RequestGuard(loadConfig(PUBLIC));
    expect(await answer(guard.reject(arriving({ host: 'evil.example', origin: 'https://mcp.example.com' })))).toEqual(
      forbidden(HOST_REFUSED),
    );
  });
});

describe('RequestGuard: the Origin header', () => {
  it('lets in a browser of its own origin, however the Origin spells the default port or case', () => {
    const guard = new RequestGuard(loadConfig(PUBLIC));
    for (const origin of ['https://mcp.example.com', 'https://mcp.example.com:443', 'HTTPS://MCP.Example.com']) {
      expect(guard.reject(arriving({ host: 'mcp.example.com', origin })), origin).toBeUndefined();
    }
  });

  it('refuses another origin with 403, naming it normalised and the variable that would allow it', async () => {
    const guard = new RequestGuard(loadConfig(PUBLIC));
    const cases: [origin: string, named: string][] = [
      ['https://app.example', 'https://app.example'],
      ['HTTPS://App.Example:443', 'https://app.example'],
      // Same host, other scheme or port: another origin.
      ['http://mcp.example.com', 'http://mcp.example.com'],
      ['https://mcp.example.com:8443', 'https://mcp.example.com:8443'],
      // The address the server listens on is not its public origin.
      ['http://localhost:8080', 'http://localhost:8080'],
    ];
    for (const [origin, named] of cases) {
      expect(await answer(guard.reject(arriving({ host: 'mcp.example.com', origin }))), origin).toEqual(
        forbidden(ORIGIN_REFUSED(named)),
      );
    }
  });

  it('refuses a null, opaque, empty or malformed Origin with 403 and a message naming no origin', async () => {
    // Even when the operator listed opaque origins: they all serialise to "null", so none can be allowed.
    const guard = new RequestGuard(
      loadConfig({ ...PUBLIC, SWITCHBOARD_ALLOWED_ORIGINS: 'file:///srv/app/index.html, data:text/plain' }),
    );
    for (const origin of ['null', 'file:///home/me/page.html', 'data:text/html,hi', '', 'not an origin', 'https://']) {
      expect(await answer(guard.reject(arriving({ host: 'mcp.example.com', origin }))), origin).toEqual(
        forbidden(UNREADABLE_ORIGIN_REFUSED),
      );
    }
  });

  it('lets in the origins of SWITCHBOARD_ALLOWED_ORIGINS, normalised (trailing slash, path, case, default port)', async () => {
    const guard = new RequestGuard(
      loadConfig({
        ...PUBLIC,
        SWITCHBOARD_ALLOWED_ORIGINS:
          'https://app.example/, https://tools.example:8443/inspector?x=1,HTTP://Inspector.Local:6274,http://old.example:80,not an origin',
      }),
    );
    for (const origin of [
      'https://app.example',
      'https://tools.example:8443',
      'http://inspector.local:6274',
      'http://old.example',
    ]) {
      expect(guard.reject(arriving({ host: 'mcp.example.com', origin })), origin).toBeUndefined();
    }
    for (const origin of ['http://app.example', 'https://tools.example', 'https://sub.app.example']) {
      expect(await answer(guard.reject(arriving({ host: 'mcp.example.com', origin }))), origin).toEqual(
        forbidden(ORIGIN_REFUSED(origin)),
      );
    }
  });
});

describe('RequestGuard: CORS', () => {
  it('gives CORS headers only to a cross origin the operator allowed, naming its normalised origin', () => {
    const guard = new RequestGuard(
      loadConfig({ ...PUBLIC, SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example/,https://mcp.example.com' }),
    );
    const cors = (headers: Record<string, string>) =>
      guard.corsHeaders(arriving({ host: 'mcp.example.com', ...headers }));
    expect(cors({ origin: 'https://app.example' })).toEqual(CORS_FOR_APP);
    expect(cors({ origin: 'HTTPS://APP.example:443' })).toEqual(CORS_FOR_APP);
    // Its own origin needs none, even listed; others, unreadable ones and non-browser clients get none.
    for (const origin of ['https://mcp.example.com', 'https://other.example', 'null', 'not an origin', '']) {
      expect(cors({ origin }), origin).toEqual({});
    }
    expect(cors({})).toEqual({});
  });

  it('answers a preflight from an allowed cross origin with 204 and exactly the methods, headers and max age', async () => {
    const guard = new RequestGuard(loadConfig({ ...PUBLIC, SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example' }));
    const preflight = arriving(
      { host: 'mcp.example.com', origin: 'https://app.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(await answer(guard.preflight(preflight))).toEqual({
      status: 204,
      headers: {
        ...CORS_FOR_APP,
        'access-control-allow-methods': 'POST, GET, DELETE',
        'access-control-allow-headers':
          'content-type, accept, authorization, mcp-protocol-version, mcp-session-id, last-event-id',
        'access-control-max-age': '600',
      },
      body: undefined,
    });
  });

  it('answers any other preflight with a bare 204, which a browser takes as no permission', async () => {
    const guard = new RequestGuard(
      loadConfig({ ...PUBLIC, SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example,https://mcp.example.com' }),
    );
    const origins: Record<string, string>[] = [
      { origin: 'https://mcp.example.com' },
      { origin: 'https://other.example' },
      {},
    ];
    for (const headers of origins) {
      const preflight = arriving({ host: 'mcp.example.com', ...headers }, 'OPTIONS');
      expect(await answer(guard.preflight(preflight)), JSON.stringify(headers)).toEqual({
        status: 204,
        headers: {},
        body: undefined,
      });
    }
  });
});

/** The error a body reader threw, as code, status and message. */
async function refusal(read: Promise<unknown>): Promise<{ code: string; status: number; message: string } | 'read'> {
  try {
    await read;
    return 'read';
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.code, status: error.status, message: error.message };
  }
}

const tooLarge = (maxBytes: number) => ({
  code: 'payload_too_large',
  status: 413,
  message: `the body is larger than ${maxBytes} bytes`,
});

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request('http://localhost/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

/**
 * A body of `chunks` pieces of `chunkBytes` bytes each, handed out one per read (no read-ahead),
 * that records how many were taken and whether the reader cancelled it.
 */
function watchedBody(chunks: number, chunkBytes: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulled === chunks) {
          controller.close();
          return;
        }
        seen.pulled += 1;
        controller.enqueue(new Uint8Array(chunkBytes).fill(0x61));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const bytesOf = (text: string) => new TextEncoder().encode(text);

describe('readBodyBytes and readBodyText', () => {
  it('refuses a declared Content-Length over the limit with 413 before reading anything', async () => {
    for (const declared of ['101', '1e9', 'Infinity']) {
      for (const reader of [readBodyBytes, readBodyText]) {
        const { stream, seen } = watchedBody(1, 10);
        const request = post(stream, { 'content-length': declared });
        expect(await refusal(reader(request, 100)), declared).toEqual(tooLarge(100));
        expect(seen.pulled, declared).toBe(0);
        expect(request.bodyUsed, declared).toBe(false);
      }
    }
  });

  it('reads a body of declared length at the limit and under it', async () => {
    const body = 'a'.repeat(100);
    expect(await readBodyBytes(post(body, { 'content-length': '100' }), 100)).toEqual(bytesOf(body));
    expect(await readBodyText(post(body, { 'content-length': '100' }), 100)).toBe(body);
    expect(await readBodyBytes(post('{"a":1}', { 'content-length': '7' }), 100)).toEqual(bytesOf('{"a":1}'));
    expect(await readBodyText(post('', { 'content-length': '0' }), 100)).toBe('');
  });

  it('refuses an in-process Request longer than it declared, once read, and reads one within the limit', async () => {
    // Only an in-process Request can lie: Node's parser ends a body at its declared length.
    for (const reader of [readBodyBytes, readBodyText]) {
      expect(await refusal(reader(post('a'.repeat(101), { 'content-length': '10' }), 100))).toEqual(tooLarge(100));
      expect(await refusal(reader(post('a'.repeat(100), { 'content-length': '10' }), 100))).toBe('read');
    }
    // Two bytes each: 51 characters are 102 bytes.
    expect(await refusal(readBodyText(post('é'.repeat(51), { 'content-length': '10' }), 100))).toEqual(tooLarge(100));
    expect(await readBodyText(post('é'.repeat(50), { 'content-length': '10' }), 100)).toBe('é'.repeat(50));
  });

  it('takes a usable declared length at its word: reads the body whole, and checks its size after', async () => {
    // The fast path builds no stream on @hono/node-server; a lying in-process body is read to its end.
    for (const declared of ['0', '10']) {
      for (const reader of [readBodyBytes, readBodyText]) {
        const { stream, seen } = watchedBody(5, 40);
        expect(await refusal(reader(post(stream, { 'content-length': declared }), 100)), declared).toEqual(
          tooLarge(100),
        );
        expect(seen, declared).toEqual({ pulled: 5, cancelled: false });
      }
    }
  });

  it('counts a body without a usable length as it streams, and cancels it as soon as it passes the limit', async () => {
    // No Content-Length (chunked), or one that is no length: not a number, negative, fractional.
    const declared: Record<string, string>[] = [
      {},
      { 'content-length': 'abc' },
      { 'content-length': '-1' },
      { 'content-length': '1.5' },
    ];
    for (const headers of declared) {
      for (const reader of [readBodyBytes, readBodyText]) {
        const { stream, seen } = watchedBody(1000, 40);
        expect(await refusal(reader(post(stream, headers), 100)), JSON.stringify(headers)).toEqual(tooLarge(100));
        // 40 and 80 bytes are within 100; the third piece passes it.
        expect(seen, JSON.stringify(headers)).toEqual({ pulled: 3, cancelled: true });
      }
    }
  });

  it('reads a streamed body of exactly the limit, its pieces joined in order', async () => {
    const pieces = ['{"a":', '"0123456789",', '"b":', '"abcdefghijklmnopqrstuvwxyz"}'];
    const limit = pieces.join('').length;
    const streamed = () =>
      post(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const piece of pieces) controller.enqueue(bytesOf(piece));
            controller.close();
          },
        }),
      );
    expect(await readBodyBytes(streamed(), limit)).toEqual(bytesOf(pieces.join('')));
    expect(await readBodyText(streamed(), limit)).toBe(pieces.join(''));
    const { stream, seen } = watchedBody(5, 20);
    expect(await readBodyBytes(post(stream), 100)).toEqual(bytesOf('a'.repeat(100)));
    expect(seen).toEqual({ pulled: 5, cancelled: false });
  });

  it('decodes a streamed body as UTF-8 once whole, so a character split between pieces survives', async () => {
    // "ü" is C3 BC; "😀" is F0 9F 98 80: each split across two pieces.
    const pieces = [
      [0x7b, 0xc3],
      [0xbc, 0xf0, 0x9f],
      [0x98, 0x80, 0x7d],
    ];
    const request = post(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(new Uint8Array(piece));
          controller.close();
        },
      }),
    );
    expect(await readBodyText(request, 100)).toBe('{ü😀}');
  });

  it('reads an empty body from a request that has none', async () => {
    const get = new Request('http://localhost/x');
    expect(await readBodyBytes(get, 100)).toEqual(new Uint8Array(0));
    expect(await readBodyText(new Request('http://localhost/x'), 100)).toBe('');
    expect(await readBodyText(post(null), 100)).toBe('');
  });
});

describe('clientAddress', () => {
  /** One app for every setting: /trust/<SWITCHBOARD_TRUST_PROXY> answers the address it counted. */
  const app = new Hono();
  app.get('/trust/:proxies', (c) =>
    c.text(clientAddress(c, loadConfig({ SWITCHBOARD_TRUST_PROXY: c.req.param('proxies') }))),
  );
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await serveOnLoopback(app.fetch);
  });
  afterAll(async () => {
    await server.close();
  });

  /** The address counted for a request over a real socket from 127.0.0.1; an array sends several header lines. */
  const counted = (proxies: string, forwardedFor?: string | string[]) =>
    new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: `/trust/${proxies}`,
          agent: false,
          headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end();
    });

  it('counts the socket peer when no proxy is trusted, whatever X-Forwarded-For says', async () => {
    expect(await counted('0')).toBe('127.0.0.1');
    expect(await counted('0', '203.0.113.9')).toBe('127.0.0.1');
    expect(await counted('false', '203.0.113.9, 198.51.100.7')).toBe('127.0.0.1');
  });

  it('counts the socket peer when a trusted proxy sent no X-Forwarded-For', async () => {
    expect(await counted('1')).toBe('127.0.0.1');
    expect(await counted('3')).toBe('127.0.0.1');
  });

  it('counts the entry N from the end with N trusted proxies: what the outermost one saw', async () => {
    const chain = '192.0.2.1, 203.0.113.9, 198.51.100.7, 10.0.0.1';
    expect(await counted('1', chain)).toBe('10.0.0.1');
    expect(await counted('true', chain)).toBe('10.0.0.1');
    expect(await counted('2', chain)).toBe('198.51.100.7');
    expect(await counted('3', chain)).toBe('203.0.113.9');
    expect(await counted('1', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('counts the first entry of a request that came through fewer proxies than trusted', async () => {
    expect(await counted('2', '198.51.100.7')).toBe('198.51.100.7');
    expect(await counted('3', '198.51.100.7, 10.0.0.1')).toBe('198.51.100.7');
  });

  it('counts the socket peer when the chosen entry is empty', async () => {
    expect(await counted('1', '203.0.113.9,')).toBe('127.0.0.1');
    expect(await counted('1', '203.0.113.9,   ')).toBe('127.0.0.1');
    expect(await counted('2', ', 10.0.0.1')).toBe('127.0.0.1');
    expect(await counted('1', '')).toBe('127.0.0.1');
  });

  it('trims whitespace around the entry', async () => {
    expect(await counted('2', '192.0.2.1,\t 198.51.100.7 \t,10.0.0.1')).toBe('198.51.100.7');
    expect(await counted('1', '192.0.2.1,   2001:db8::1')).toBe('2001:db8::1');
  });

  it('keeps at most 64 characters of the entry, so a client cannot fill the limiter with long keys', async () => {
    const long = `2001:db8::${'f'.repeat(80)}`;
    expect(await counted('1', `192.0.2.1, ${long}`)).toBe(long.slice(0, 64));
    expect(await counted('1', `  ${'a'.repeat(64)}  `)).toBe('a'.repeat(64));
  });

  it('reads several X-Forwarded-For header lines as one list, in order', async () => {
    expect(await counted('1', ['203.0.113.9', '10.0.0.1'])).toBe('10.0.0.1');
    expect(await counted('2', ['192.0.2.1, 198.51.100.7', '10.0.0.1'])).toBe('198.51.100.7');
    expect(await counted('3', ['192.0.2.1, 203.0.113.9', '198.51.100.7', '10.0.0.1'])).toBe('203.0.113.9');
  });

  it('counts every request without a socket as "unknown" (in process, other runtimes)', async () => {
    expect(await (await app.request('/trust/0')).text()).toBe('unknown');
    expect(await (await app.request('/trust/1')).text()).toBe('unknown');
    expect(await (await app.request('/trust/0', {}, {})).text()).toBe('unknown');
    // Behind a trusted proxy the header still names the client.
    expect(await (await app.request('/trust/1', { headers: { 'x-forwarded-for': '203.0.113.9' } })).text()).toBe(
      '203.0.113.9',
    );
  });
});
