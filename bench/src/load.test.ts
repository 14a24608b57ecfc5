import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paced } from './load.js';

/**
 * A loopback server that answers every request at once, except that request number `stallAt`
 * (by arrival) is held for `stallMs`, and requests to /fail answer a JSON-RPC error.
 */
function stallingServer(stallAt: number, stallMs: number) {
  const arrivals: { at: number; path: string }[] = [];
  const server = createServer((req, res) => {
    arrivals.push({ at: performance.now(), path: req.url ?? '' });
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/fail' ? '{"jsonrpc":"2.0","id":1,"error":{"code":-32603}}' : '{"result":{}}');
    };
    req.resume();
    req.on('end', () => {
      if (arrivals.length === stallAt) setTimeout(answer, stallMs);
      else answer();
    });
  });
  return { server, arrivals };
}

describe('paced (open-loop load)', () => {
  const stall = stallingServer(20, 300);
  let origin = '';

  beforeAll(async () => {
    stall.server.listen(0, '127.0.0.1');
    await once(stall.server, 'listening');
    origin = `http://127.0.0.1:${(stall.server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    stall.server.close();
  });

  it('sends on its schedule and times each call from its scheduled time, so a stall counts for every call behind it', async () => {
    const started = performance.now();
    const result = await paced({
      label: 'stall',
      urls: [`${origin}/a`, `${origin}/b`],
      body: '{}',
      headers: { 'content-type': 'application/json' },
      connections: 1,
      rate: 200,
      durationS: 1,
    });
    expect(result.requests).toBe(200);
    expect(result.failures).toBe(0);
    // Both URLs are used, in turn.
    expect(stall.arrivals.filter((a) => a.path === '/a')).toHaveLength(100);
    // About 60 calls were scheduled during the 300 ms stall and waited behind it on the one
    // connection: timed from their schedule, a few per cent of the calls took over 100 ms. A
    // client timing from when a connection took the request would see one slow call (p99 small).
    expect(result.p99).toBeGreaterThan(100);
    // Most calls are far from the stall: below half the tail. (Not a fixed 50 ms: with the
    // machine busy, a late sender delays every call a little, the stall's ones as much.)
    expect(result.p50).toBeLessThan(result.p99 / 2);
    // The schedule, not the answers, set the pace: the 20th call is due 95 ms after the start,
    // where answers at once would have let it go within a few ms. A busy machine may wake the
    // sender late, never early; measured from the start, not from the first call, which a late
    // wake-up delays while the calls after it catch up with their schedule.
    const beforeStall = (stall.arrivals[19]?.at ?? 0) - started;
    expect(beforeStall).toBeGreaterThan(90);
    expect(beforeStall).toBeLessThan(400);
  });

  it('counts error answers as failures', async () => {
    const result = await paced({
      label: 'fail',
      urls: [`${origin}/fail`],
      body: '{}',
      headers: { 'content-type': 'application/json' },
      connections: 2,
      rate: 100,
      durationS: 0.2,
    });
    expect(result.requests).toBe(20);
    expect(result.failures).toBe(20);
  });
});
