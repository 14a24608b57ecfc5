import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { AppError, isAppError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { addressPrefix } from '../src/rate-limits/address-prefix.js';
import { FixedWindowCounter } from '../src/rate-limits/fixed-window.js';
import {
  type RateKey,
  RateLimiter,
  type RateRule,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_RETRY_AFTER_MS,
  rateLimited,
  retryAfterSeconds,
} from '../src/rate-limits/rate-limiter.js';
import { type ManualClock, manualClock } from './support/clock.js';
import { TEST_REDIS_PORT, TEST_REDIS_URL, testRedisUp } from './support/redis.js';

const REDIS_PORT = TEST_REDIS_PORT;
const REDIS_URL = TEST_REDIS_URL;
const redisUp = await testRedisUp();

/** Log lines written by a limiter, parsed. */
type LogLine = { level: number; msg: string; err?: { message?: string } };

/** A limiter on a clock moved by hand, its logs kept; `env` as in the environment (limits, REDIS_URL). */
function limiterWith(env: Record<string, string>, options: { clock?: ManualClock; metrics?: Metrics } = {}) {
  const clock = options.clock ?? manualClock();
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = loadConfig({ PORT: '3000', SWITCHBOARD_LOG_LEVEL: 'silent', ...env });
  const limiter = new RateLimiter({
    config,
    clock,
    logger: createLogger('info', destination),
    metrics: options.metrics,
  });
  return { limiter, clock, logs };
}

/** Whether one request under `keys` passes; the rate_limited error when it does not. */
async function attempt(limiter: RateLimiter, rule: RateRule, keys: RateKey[]): Promise<AppError | 'ok'> {
  try {
    await limiter.consume(rule, keys);
    return 'ok';
  } catch (error) {
    if (isAppError(error) && error.code === 'rate_limited') return error;
    throw error;
  }
}

const messages = (logs: LogLine[], text: string) => logs.filter((line) => line.msg === text);
const UNAVAILABLE = 'redis is unavailable: rate limits are counted per replica';
const NOT_COUNTED = 'redis did not count a request: counted here';

describe('RateLimiter in this process', () => {
  it('lets `points` requests through per window and refuses the next with the wait to the millisecond', async () => {
    const { limiter, clock, logs } = limiterWith({ SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' });
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    clock.advance(1_000);
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    clock.advance(999);
    const refused = await attempt(limiter, 'token', ['ip:192.0.2.1']);
    // 58,001 ms left of the window that started at 0: 59 s rounded up.
    expect(refused).toMatchObject({
      code: 'rate_limited',
      message: 'too many requests; try again in 59 s',
      details: { retry_after_seconds: 59 },
    });
    clock.advance(58_000);
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toMatchObject({
      message: 'too many requests; try again in 1 s',
      details: { retry_after_seconds: 1 },
    });
    // The window ends at 60,000 ms exactly.
    clock.advance(1);
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(logs).toEqual([]);
    await limiter.close();
  });

  it('counts each key and each rule apart, and refuses when any key is over, with the longest wait', async () => {
    const { limiter, clock } = limiterWith({
      SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60',
      SWITCHBOARD_RATE_LIMIT_CONNECT: '1/60',
    });
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'connect', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toBe('ok');
    clock.advance(30_000);
    expect(await attempt(limiter, 'token', ['client:cli_a'])).toBe('ok');
    clock.advance(10_000);
    // 192.0.2.1's window ends in 20 s and cli_a's in 50 s: the answer is the longer, in either order.
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1', 'client:cli_a'])).toMatchObject({
      details: { retry_after_seconds: 50 },
    });
    expect(await attempt(limiter, 'token', ['client:cli_a', 'ip:192.0.2.1'])).toMatchObject({
      details: { retry_after_seconds: 50 },
    });
    // One key over is enough, and the others were counted anyway.
    expect(await attempt(limiter, 'token', ['client:cli_b', 'ip:192.0.2.1'])).toMatchObject({
      details: { retry_after_seconds: 20 },
    });
    expect(await attempt(limiter, 'token', ['client:cli_b'])).toMatchObject({ details: { retry_after_seconds: 60 } });
    expect(await attempt(limiter, 'token', [])).toBe('ok');
    await limiter.close();
  });

  it('counts an IPv6 address by its /64 and an IPv4-mapped one as IPv4, but client ids as written', async () => {
    const { limiter } = limiterWith({ SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    expect(await attempt(limiter, 'token', ['ip:2001:db8:1:2::a'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:2001:db8:1:2:ffff::b'])).not.toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:2001:db8:1:3::a'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:::ffff:192.0.2.1'])).not.toBe('ok');
    expect(await attempt(limiter, 'token', ['client:2001:db8:1:2::a'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['client:2001:db8:1:2::b'])).toBe('ok');
    await limiter.close();
  });

  it('counts long client ids that differ only past 128 characters apart', async () => {
    const { limiter } = limiterWith({ SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    const long = `client:${'x'.repeat(200)}`;
    expect(await attempt(limiter, 'token', [`${long}a` as RateKey])).toBe('ok');
    expect(await attempt(limiter, 'token', [`${long}b` as RateKey])).toBe('ok');
    expect(await attempt(limiter, 'token', [`${long}a` as RateKey])).not.toBe('ok');
    await limiter.close();
  });

  it('counts nothing for a rule that is off', async () => {
    const { limiter } = limiterWith({ SWITCHBOARD_RATE_LIMIT_SIGN_IN: 'off', SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    for (let i = 0; i < 100; i++) expect(await attempt(limiter, 'signIn', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).not.toBe('ok');
    await limiter.close();
  });

  it('counts a refusal in the metrics by rule, and refuses the same without metrics', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const rejections = async () =>
      (await metrics.registry.getSingleMetricAsString('switchboard_rate_limit_rejections_total'))
        .split('\n')
        .filter((line) => line.startsWith('switchboard_rate_limit_rejections_total{'));
    const { limiter } = limiterWith({ SWITCHBOARD_RATE_LIMIT_CONNECT: '1/60' }, { metrics });
    await attempt(limiter, 'connect', ['ip:192.0.2.1']);
    expect(await rejections()).toEqual([]);
    await attempt(limiter, 'connect', ['ip:192.0.2.1']);
    expect(await rejections()).toEqual(['switchboard_rate_limit_rejections_total{rule="connect"} 1']);

    const bare = limiterWith({ SWITCHBOARD_RATE_LIMIT_CONNECT: '1/60' }).limiter;
    await attempt(bare, 'connect', ['ip:192.0.2.1']);
    expect(await attempt(bare, 'connect', ['ip:192.0.2.1'])).toMatchObject({ code: 'rate_limited' });
    await bare.close();
  });
});

describe('addressPrefix and FixedWindowCounter, beyond their own files', () => {
  it('fills the zeros of `::` where it stands, and maps only under 80 zero bits', () => {
    // One group of zeros, between the second and the third.
    expect(addressPrefix('2001:db8::1:2:3:4:5')).toBe('2001:db8:0:1::/64');
    expect(addressPrefix('::ffff:198.51.100.27')).toBe('198.51.100.27');
    // ffff as the sixth group of another address is no IPv4.
    expect(addressPrefix('2001:db8::ffff:c000:201')).toBe('2001:db8:0:0::/64');
  });

  it('sweeps at a new window at most once a tenth of a window, dropping windows that end at that millisecond', () => {
    let now = 0;
    const counter = new FixedWindowCounter({ points: 1, seconds: 1 }, () => now);
    counter.hit('a'); // ends at 1,000; swept, the next sweep from 100
    now = 50;
    counter.hit('b'); // ends at 1,050
    now = 1_000;
    counter.hit('c'); // a ended at this millisecond: swept; the next sweep from 1,100
    expect(counter.size).toBe(2);
    now = 1_060;
    counter.hit('d'); // b ended, but the last sweep was 60 ms ago: it stays
    expect(counter.size).toBe(3);
    now = 1_100;
    counter.hit('e');
    expect(counter.size).toBe(3);
  });
});

describe('rateLimited and retryAfterSeconds', () => {
  it('round a wait up to whole seconds, at least one', () => {
    expect(rateLimited('m', 0).details).toEqual({ retry_after_seconds: 1 });
    expect(rateLimited('m', 1).details).toEqual({ retry_after_seconds: 1 });
    expect(rateLimited('m', 1_001).details).toEqual({ retry_after_seconds: 2 });
    expect(rateLimited('m', 60_000)).toMatchObject({ code: 'rate_limited', message: 'm', status: 429 });
    expect(rateLimited('m', 60_000).details).toEqual({ retry_after_seconds: 60 });
  });

  it('answer the Retry-After of a rate_limited error only', () => {
    const limited = (details?: Record<string, unknown>) => new AppError('rate_limited', 'm', { details });
    expect(retryAfterSeconds(rateLimited('m', 42_000))).toBe('42');
    expect(retryAfterSeconds(limited({ retry_after_seconds: 2.2 }))).toBe('3');
    expect(retryAfterSeconds(limited({ retry_after_seconds: 0 }))).toBe('1');
    expect(retryAfterSeconds(limited({ retry_after_seconds: -5 }))).toBe('1');
    expect(retryAfterSeconds(limited({ retry_after_seconds: '7' }))).toBe('1');
    expect(retryAfterSeconds(limited())).toBe('1');
    expect(retryAfterSeconds(new AppError('unauthenticated', 'm', { details: { retry_after_seconds: 5 } }))).toBe(
      undefined,
    );
  });
});

/**
 * A TCP relay to Redis that a test can cut and restore, and whose open connections it can
 * count; stalled, it keeps its connections but passes nothing on (a Redis that hangs), and
 * counts the bytes that reached it meanwhile.
 */
async function redisRelay() {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let stalled = false;
  let stalledBytes = 0;
  const open = async () => {
    stalled = false;
    server = createServer((socket) => {
      const upstream = tcpConnect(REDIS_PORT, '127.0.0.1');
      for (const end of [socket, upstream]) {
        sockets.add(end);
        end.on('error', () => undefined);
        end.on('close', () => {
          sockets.delete(end);
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.on('data', (chunk: Buffer) => {
        if (stalled) stalledBytes += chunk.length;
        else upstream.write(chunk);
      });
      upstream.pipe(socket);
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
  };
  await open();
  return {
    url: () => `redis://127.0.0.1:${port}`,
    connections: () => sockets.size / 2,
    stall() {
      stalled = true;
    },
    stalledBytes: () => stalledBytes,
    open,
    async cut() {
      await new Promise<void>((resolve) => {
        server?.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** Waits until `check` holds, for at most `ms`. */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!redisUp)('RateLimiter with REDIS_URL', () => {
  const redis = new Redis(REDIS_URL);
  afterAll(() => redis.quit());
  /** An env of its own key prefix per test, so runs never share a count. */
  const shared = (env: Record<string, string>) => {
    const prefix = `switchboard-test:${randomUUID()}:`;
    return { prefix, env: { REDIS_URL, SWITCHBOARD_REDIS_KEY_PREFIX: prefix, ...env } };
  };

  it('shares one count between replicas from their first request, with the wait Redis answers', async () => {
    const { env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' });
    // Requests right after construction wait for the Redis counters instead of counting here.
    const a = limiterWith(env).limiter;
    const b = limiterWith(env).limiter;
    expect(await attempt(a, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(b, 'token', ['ip:192.0.2.1'])).toBe('ok');
    const refused = await attempt(a, 'token', ['ip:192.0.2.1']);
    expect(refused).toMatchObject({ code: 'rate_limited', message: 'too many requests; try again in 60 s' });
    expect((refused as AppError).details?.retry_after_seconds).toBe(60);
    // Another key and another rule count apart.
    expect(await attempt(b, 'token', ['ip:192.0.2.2'])).toBe('ok');
    expect(await attempt(b, 'connect', ['ip:192.0.2.1'])).toBe('ok');
    await a.close();
    await b.close();
  });

  it('stores a key under the prefix and rule, an address by its prefix, a long client id by its hash', async () => {
    const { prefix, env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '5/60' });
    const { limiter } = limiterWith(env);
    const exact = `client:${'c'.repeat(121)}`; // 128 characters: stored as it is
    const long = `client:${'c'.repeat(122)}`; // 129: stored as its hash
    await limiter.consume('token', ['ip:2001:db8:1:2::a', 'ip:::ffff:192.0.2.1', exact as RateKey, long as RateKey]);
    const hash = createHash('sha256').update(long).digest('base64url');
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual(
      [
        `${prefix}rate:token:ip:2001:db8:1:2::/64`,
        `${prefix}rate:token:ip:192.0.2.1`,
        `${prefix}rate:token:${exact}`,
        `${prefix}rate:token:client:#${hash}`,
      ].sort(),
    );
    expect(await redis.pttl(`${prefix}rate:token:ip:192.0.2.1`)).toBeGreaterThan(59_000);
    await limiter.close();
  });

  it('counts here, and says so, when Redis fails a command', async () => {
    const { prefix, env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    // A value that is no counter: Redis answers an error to the increment.
    await redis.set(`${prefix}rate:token:ip:192.0.2.1`, 'not a number', 'EX', 60);
    const { limiter, logs } = limiterWith(env);
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toMatchObject({ code: 'rate_limited' });
    expect(messages(logs, NOT_COUNTED)).toHaveLength(2);
    // With Redis's answer, so the log says why.
    expect(messages(logs, NOT_COUNTED)[0]?.err?.message).toMatch(/not an integer/);
    expect(messages(logs, UNAVAILABLE)).toHaveLength(0);
    await limiter.close();
  });

  it('counts here while Redis is away, warns once per outage, and shares again once it is back', async () => {
    const relay = await redisRelay();
    const { env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' });
    const { limiter, logs } = limiterWith({ ...env, REDIS_URL: relay.url() });
    const other = limiterWith(env).limiter;
    try {
      expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
      await relay.cut();
      await until(() => messages(logs, UNAVAILABLE).length === 1);
      // Never no limit: the replica's own count refuses the third. Nor does a request wait for
      // Redis while the connection is lost (ioredis would queue it until its command timeout).
      const started = Date.now();
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toBe('ok');
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toBe('ok');
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toMatchObject({ code: 'rate_limited' });
      expect(Date.now() - started).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS);
      // Reconnect attempts fail for a while: still one warning.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(messages(logs, UNAVAILABLE)).toHaveLength(1);
      expect(messages(logs, NOT_COUNTED)).toHaveLength(0);

      await relay.open();
      await until(() => relay.connections() > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Back in Redis: the other replica's request counts with the one before the outage.
      expect(await attempt(other, 'token', ['ip:192.0.2.1'])).toBe('ok');
      expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toMatchObject({ code: 'rate_limited' });

      await relay.cut();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(messages(logs, UNAVAILABLE)).toHaveLength(2);
      await relay.open();
      await until(() => relay.connections() > 0);
    } finally {
      await limiter.close();
      await other.close();
    }
    // Closing quits the connection.
    await until(() => relay.connections() === 0);
    await relay.cut();
  });

  it('after Redis leaves a command unanswered, counts here for a while, then lets one request try again', async () => {
    const relay = await redisRelay();
    const { prefix, env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' });
    const { limiter, clock, logs } = limiterWith({ ...env, REDIS_URL: relay.url() });
    try {
      expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
      relay.stall();
      // The first request waits out the command timeout, and is counted here.
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toBe('ok');
      expect(messages(logs, NOT_COUNTED)).toHaveLength(1);
      const sent = relay.stalledBytes();
      expect(sent).toBeGreaterThan(0);
      // The next ones do not try Redis: nothing more reaches it, and the replica's count refuses the third.
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toBe('ok');
      expect(await attempt(limiter, 'token', ['ip:192.0.2.2'])).toMatchObject({ code: 'rate_limited' });
      clock.advance(REDIS_RETRY_AFTER_MS - 1);
      expect(await attempt(limiter, 'token', ['ip:192.0.2.3'])).toBe('ok');
      expect(relay.stalledBytes()).toBe(sent);

      // Then one request tries Redis again; while it waits, the others are counted here.
      clock.advance(1);
      const retry = attempt(limiter, 'token', ['ip:192.0.2.4']);
      expect(await attempt(limiter, 'token', ['ip:192.0.2.5'])).toBe('ok');
      await until(() => relay.stalledBytes() > sent);
      const resent = relay.stalledBytes();
      expect(await retry).toBe('ok');
      expect(messages(logs, NOT_COUNTED)).toHaveLength(2);
      expect(await attempt(limiter, 'token', ['ip:192.0.2.5'])).toBe('ok');
      expect(relay.stalledBytes()).toBe(resent);

      // A new connection that answers: counted in Redis again, at once.
      await relay.cut();
      await relay.open();
      await until(() => relay.connections() > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await attempt(limiter, 'token', ['ip:192.0.2.6'])).toBe('ok');
      expect(await redis.get(`${prefix}rate:token:ip:192.0.2.6`)).toBe('1');
    } finally {
      await limiter.close();
      await relay.cut();
    }
  });

  it('closes its connection even when closed before it was set up', async () => {
    const relay = await redisRelay();
    const { env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '2/60' });
    const { limiter, logs } = limiterWith({ ...env, REDIS_URL: relay.url() });
    await limiter.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(relay.connections()).toBe(0);
    expect(logs).toEqual([]);
    await relay.cut();
  });

  it('counts here from the start when Redis never answers', async () => {
    const { env } = shared({ SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    const { limiter, logs } = limiterWith({ ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    const started = Date.now();
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toBe('ok');
    expect(await attempt(limiter, 'token', ['ip:192.0.2.1'])).toMatchObject({ code: 'rate_limited' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(messages(logs, UNAVAILABLE)).toHaveLength(1);
    expect(messages(logs, UNAVAILABLE)[0]?.err?.message).toMatch(/ECONNREFUSED/);
    await limiter.close();
  });
});

describe('RateLimiter without REDIS_URL', () => {
  it('logs nothing and closes at once', async () => {
    const { limiter, logs } = limiterWith({ SWITCHBOARD_RATE_LIMIT_TOKEN: '1/60' });
    await limiter.close();
    await attempt(limiter, 'token', ['ip:192.0.2.1']);
    expect(logs).toEqual([]);
  });
});
