import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { ProviderError } from '../errors.js';
import { createProviderClient } from './provider-client.js';
import { createProviderTransport, MAX_ANSWER_BYTES } from './provider-transport.js';

const ORIGIN = 'https://gmail.googleapis.com';
const UTF8_BODY = 'Grüße aus Köln – 東京 👋';
/** Larger than the body stream's buffer, smaller than undici's dump() limit (128 KB): left unread, it stalls the socket. */
const REDIRECT_BODY = 'm'.repeat(100_000);
/** The answer limit of the transports that test it, and what the endless answer sends at most. */
const SMALL_LIMIT = 1_048_576;
const ENDLESS_BYTES = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

interface Echo {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** undici returns a socket to its pool a turn of the event loop after the body was read. */
const socketReleased = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the provider HTTP client', () => {
  let server: Server;
  let base = '';
  /** Every socket the server accepted, in order. */
  const accepted: Socket[] = [];
  /** Resolves when /slow has received its request (the answer is held back). */
  let slowArrived: () => void = () => undefined;
  const profileAuths: string[] = [];
  /** Bytes the server wrote of each /endless answer, and how many it was asked for. */
  const endless = { requests: 0, written: 0 };

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      const body = `status ${status[1]}`;
      res.writeHead(Number(status[1]), { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
      return;
    }
    switch (url.pathname) {
      case '/headers':
        res.setHeader('X-Custom', 'Value');
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.setHeader('x-multi', ['one', 'two']);
        res.end('ok');
        return;
      case '/utf8':
        res.writeHead(200, {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(UTF8_BODY),
        });
        res.end(UTF8_BODY);
        return;
      case '/echo': {
        const body = await readAll(req);
        const echo: Echo = { method: req.method ?? '', headers: req.headers, body };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(echo));
        return;
      }
      case '/redirect':
        res.writeHead(302, {
          location: '/status/200',
          'content-type': 'text/plain',
          'content-length': REDIRECT_BODY.length,
        });
        res.end(REDIRECT_BODY);
        return;
      case '/declared-large': {
        const body = Buffer.alloc(SMALL_LIMIT + 1, 0x62);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
        return;
      }
      case '/endless': {
        // Chunked, written only as fast as the client reads, until it hangs up.
        endless.requests++;
        endless.written = 0;
        res.writeHead(200, { 'content-type': 'application/json' });
        let closed = false;
        res.on('close', () => {
          closed = true;
        });
        while (!closed && endless.written < ENDLESS_BYTES) {
          endless.written += CHUNK.length;
          if (!res.write(CHUNK)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        }
        if (!closed) res.end();
        return;
      }
      case '/slow':
        // Never answered: the client gives up first, and afterAll closes what is left.
        slowArrived();
        return;
      case '/sandbox/gmail/v1/users/me/profile': {
        profileAuths.push(req.headers.authorization ?? '');
        res.writeHead(profileAuths.length === 1 ? 401 : 200, { 'content-type': 'application/json' });
        res.end(
          profileAuths.length === 1
            ? JSON.stringify({ error: { code: 401, message: 'Invalid Credentials' } })
            : JSON.stringify({ emailAddress: 'john@example.com' }),
        );
        return;
      }
      default:
        res.writeHead(404).end();
    }
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      answer(req, res).catch((error: unknown) => res.destroy(error as Error));
    });
    server.on('connection', (socket: Socket) => accepted.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  let http = createProviderTransport();
  let acceptedBefore = 0;
  /** The sockets this test's client opened. */
  const newConnections = () => accepted.slice(acceptedBefore);
  afterEach(async () => {
    await http.close();
    http = createProviderTransport();
    acceptedBefore = accepted.length;
  });

  const get = (path: string, init: { signal?: AbortSignal } = {}) =>
    http(new URL(path, base), { method: 'GET', headers: {}, redirect: 'error', ...init });

  it('reports status and ok for 200, 404 and 500 like fetch', async () => {
    const answers = [];
    for (const code of [200, 404, 500]) {
      const response = await get(`/status/${code}`);
      answers.push({ status: response.status, ok: response.ok, text: await response.text() });
    }
    expect(answers).toEqual([
      { status: 200, ok: true, text: 'status 200' },
      { status: 404, ok: false, text: 'status 404' },
      { status: 500, ok: false, text: 'status 500' },
    ]);
  });

  it('reads headers case-insensitively, null when absent, repeated ones joined with a comma', async () => {
    const response = await get('/headers');
    await response.text();
    expect(response.headers.get('x-custom')).toBe('Value');
    expect(response.headers.get('X-CUSTOM')).toBe('Value');
    expect(response.headers.get('Content-Length')).toBe('2');
    expect(response.headers.get('retry-after')).toBeNull();
    expect(response.headers.get('X-Multi')).toBe('one, two');
    expect(response.headers.get('set-cookie')).toBe('a=1; Path=/, b=2; Path=/');
  });

  it('gives the same header values as fetch for the same answer', async () => {
    const ours = await get('/headers');
    await ours.text();
    const theirs = await fetch(new URL('/headers', base));
    await theirs.text();
    for (const name of ['x-custom', 'X-Multi', 'set-cookie', 'content-type', 'x-absent']) {
      expect(ours.headers.get(name), name).toBe(theirs.headers.get(name));
    }
  });

  it('returns the body as text, decoding non-ASCII UTF-8', async () => {
    const response = await get('/utf8');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(UTF8_BODY)));
    expect(await response.text()).toBe(UTF8_BODY);
  });

  it('delivers the method, the request headers and a POST body intact', async () => {
    const body = JSON.stringify({ subject: 'Grüße 東京', n: 1 });
    const response = await http(new URL('/echo?x=1', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t-1', 'x-trace': 'abc' },
      body,
      redirect: 'error',
    });
    const echo = JSON.parse(await response.text()) as Echo;
    expect(echo.method).toBe('POST');
    expect(echo.body).toBe(body);
    expect(echo.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer t-1',
      'x-trace': 'abc',
      'content-length': String(Buffer.byteLength(body)),
    });

    const deleted = await http(new URL('/echo', base), { method: 'DELETE', headers: {}, redirect: 'error' });
    expect((JSON.parse(await deleted.text()) as Echo).method).toBe('DELETE');
  });

  it('rejects a redirect with a TypeError and drains its body, so the socket serves the next request', async () => {
    const error = await get('/redirect').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/redirect \(HTTP 302\)/);
    await socketReleased();
    const next = await get('/status/200');
    expect(await next.text()).toBe('status 200');
    // A body left unread would stall the first socket and force a second connection.
    expect(newConnections()).toHaveLength(1);
  });

  it('rejects with a TimeoutError when the signal is aborted as one while the provider delays', async () => {
    const arrived = new Promise<void>((resolve) => {
      slowArrived = resolve;
    });
    const controller = new AbortController();
    const pending = get('/slow', { signal: controller.signal });
    await arrived;
    const reason = new DOMException('x', 'TimeoutError');
    controller.abort(reason);
    const error = await pending.catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    // fetch rejects with the signal's reason itself; so does this client.
    expect(error).toBe(reason);
  });

  it('rejects with an AbortError when the signal is aborted without a reason', async () => {
    const arrived = new Promise<void>((resolve) => {
      slowArrived = resolve;
    });
    const controller = new AbortController();
    const pending = get('/slow', { signal: controller.signal });
    await arrived;
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
  });

  it('sends sequential requests over one keep-alive connection', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await get(`/status/${i % 2 ? 404 : 200}`);
      await response.text();
      await socketReleased();
    }
    expect(newConnections()).toHaveLength(1);
  });

  it('keeps back-to-back requests on at most two keep-alive connections', async () => {
    // With no turn of the event loop between calls, the previous socket is not free yet, so
    // undici opens a second one (fetch does the same); both are then reused in turn.
    for (let i = 0; i < 10; i++) await (await get('/status/200')).text();
    expect(newConnections().length).toBeLessThanOrEqual(2);
  });

  it('closes its idle keep-alive sockets when close() resolves', async () => {
    const own = createProviderTransport();
    await (await own(new URL('/status/200', base), { method: 'GET', headers: {}, redirect: 'error' })).text();
    const [socket] = newConnections();
    expect(newConnections()).toHaveLength(1);
    expect(socket?.destroyed).toBe(false);
    const closed = once(socket as Socket, 'close');
    await own.close();
    await closed;
    expect(socket?.destroyed).toBe(true);
  }, 5_000);

  it('refuses an answer whose declared length is over its limit, without reading it', async () => {
    const small = createProviderTransport({ maxAnswerBytes: SMALL_LIMIT });
    try {
      const response = await small(new URL('/declared-large', base), { method: 'GET', headers: {}, redirect: 'error' });
      const error = await response.text().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ code: 'tool_result_too_large', details: { max_answer_bytes: SMALL_LIMIT } });
    } finally {
      await small.close();
    }
  });

  it('cuts off a chunked answer as soon as it passes its limit, instead of buffering it whole', async () => {
    const small = createProviderTransport({ maxAnswerBytes: SMALL_LIMIT });
    try {
      const response = await small(new URL('/endless', base), { method: 'GET', headers: {}, redirect: 'error' });
      const error = await response.text().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'tool_result_too_large' });
      expect((error as Error).message).toMatch(/larger than 1048576 bytes/);
      // What the server got out before the hang-up: the limit plus what the sockets buffer.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(endless.written).toBeLessThan(16 * 1024 * 1024);
    } finally {
      await small.close();
    }
  });

  it('reads by default an answer as large as the largest Gmail message in format raw', () => {
    // 35 MB (Gmail's upload limit) as base64url is 48,933,548 bytes, before the JSON around it.
    expect(MAX_ANSWER_BYTES).toBeGreaterThan(Math.ceil(36_700_160 / 3) * 4 + 10_000);
  });

  it('gives createProviderClient an answer over the limit as tool_result_too_large, never retried as a lost one', async () => {
    const small = createProviderTransport({ maxAnswerBytes: SMALL_LIMIT });
    const before = endless.requests;
    try {
      const edge = createProviderClient({
        fetch: small,
        apiOrigins: [ORIGIN],
        sandboxBaseUrl: base,
        timeoutMs: 5_000,
        clock: systemClock,
        sleep: async () => undefined,
        getAccessToken: async () => 'token',
      });
      const error = await edge.request({ url: `${ORIGIN}/endless` }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'tool_result_too_large' });
      expect(endless.requests - before).toBe(1);
    } finally {
      await small.close();
    }
  });

  it('serves createProviderClient in place of fetch: a 401 forces exactly one token refresh', async () => {
    const refreshes: boolean[] = [];
    const edge = createProviderClient({
      fetch: http,
      apiOrigins: [ORIGIN],
      sandboxBaseUrl: `${base}/sandbox`,
      timeoutMs: 2_000,
      clock: systemClock,
      sleep: async () => undefined,
      getAccessToken: async ({ forceRefresh }) => {
        refreshes.push(forceRefresh);
        return forceRefresh ? 'new-token' : 'old-token';
      },
    });
    const profile = await edge.request<{ emailAddress: string }>({ url: `${ORIGIN}/gmail/v1/users/me/profile` });
    expect(profile).toEqual({ emailAddress: 'john@example.com' });
    expect(refreshes).toEqual([false, true]);
    expect(profileAuths).toEqual(['Bearer old-token', 'Bearer new-token']);
  });
});
