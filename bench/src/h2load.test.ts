import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2load, h2loadAvailable } from './h2load.js';
import { processState } from './proc.js';

/** Every fifth request (by arrival) answers 500; each request's body and headers are kept. */
function handler() {
  const seen: { body: string; header: string | undefined; httpVersion: string }[] = [];
  const handle = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ body, header: req.headers['x-probe'] as string | undefined, httpVersion: req.httpVersion });
      res.writeHead(seen.length % 5 === 0 ? 500 : 200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  };
  return { seen, handle };
}

describe.skipIf(!h2loadAvailable())('h2load runs (nghttp2-client installed)', () => {
  const h1 = handler();
  const h2 = handler();
  const http1 = createHttpServer(h1.handle);
  const http2 = createHttp2Server(h2.handle);
  const url = (server: { address(): AddressInfo | string | null }) =>
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/probe`;

  let sessions = 0;
  http2.on('session', () => {
    sessions++;
  });

  beforeAll(async () => {
    http1.listen(0, '127.0.0.1');
    http2.listen(0, '127.0.0.1');
    await Promise.all([once(http1, 'listening'), once(http2, 'listening')]);
  });
  afterAll(() => {
    http1.close();
    http2.close();
  });

  it('sends a counted run over HTTP/1.1 and waits for every answer, non-200s counted', async () => {
    const run = await h2load(
      { url: url(http1), protocol: 'h1', concurrency: 4, headers: { 'x-probe': 'one' }, body: '{"a":1}' },
      { requests: 50 },
    );
    expect(run.latencies).toHaveLength(50);
    expect(run.not200).toBe(10);
    expect(run.latencies.every((ms) => ms > 0 && ms < 10_000)).toBe(true);
    expect(run.elapsedS).toBeGreaterThan(0);
    expect(h1.seen).toHaveLength(50);
    expect(new Set(h1.seen.map((s) => `${s.httpVersion} ${s.header} ${s.body}`))).toEqual(new Set(['1.1 one {"a":1}']));
  });

  it('sends a binary body as streams of one HTTP/2 session, and a timed run stops', async () => {
    const body = Buffer.from([0, 0, 0, 0, 2, 8, 1]);
    const counted = await h2load(
      { url: url(http2), protocol: 'h2', concurrency: 8, headers: { 'x-probe': 'two' }, body },
      { requests: 40 },
    );
    expect(counted.latencies).toHaveLength(40);
    expect(counted.not200).toBe(8);
    expect(sessions).toBe(1);
    expect(new Set(h2.seen.map((s) => `${s.httpVersion} ${s.header} ${Buffer.from(s.body, 'utf8').length}`))).toEqual(
      new Set([`2.0 two ${body.length}`]),
    );
    const timed = await h2load(
      { url: url(http2), protocol: 'h2', concurrency: 2, headers: {}, body },
      { durationS: 1 },
    );
    expect(timed.elapsedS).toBeGreaterThan(0.9);
    expect(timed.elapsedS).toBeLessThan(5);
    expect(timed.latencies.length).toBeGreaterThan(0);
  });

  it('is stopped with the harness when a signal ends it, not left loading the server', async () => {
    // The built module, as the harness runs it (npm test builds first); a run far longer than the test.
    const module = new URL('../dist/h2load.js', import.meta.url).href;
    const before = h1.seen.length;
    const harness = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { h2load } = await import(${JSON.stringify(module)});
         await h2load({ url: ${JSON.stringify(url(http1))}, protocol: 'h1', concurrency: 1, headers: {}, body: '{}' }, { durationS: 120 });`,
      ],
      { stdio: 'ignore' },
    );
    /** The harness's h2load child, while it runs (a zombie counts as gone: nothing here reaps it). */
    const h2loadOf = (parent: number | undefined) =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .find((pid) => {
          const state = processState(pid);
          return state?.name === 'h2load' && state.parent === parent && state.running;
        });
    let child: number | undefined;
    for (let i = 0; i < 250 && !(child && h1.seen.length > before); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      child ??= h2loadOf(harness.pid);
    }
    expect(child).toBeDefined();
    expect(h1.seen.length).toBeGreaterThan(before);
    const exited = once(harness, 'exit');
    harness.kill('SIGINT');
    expect((await exited)[1]).toBe('SIGINT');
    const running = () => child !== undefined && processState(child)?.running === true;
    try {
      for (let i = 0; i < 50 && running(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(running()).toBe(false);
    } finally {
      if (child !== undefined && running()) process.kill(child, 'SIGKILL');
    }
  });
});
