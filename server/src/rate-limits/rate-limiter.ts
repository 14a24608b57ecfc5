import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../clock.js';
import type { Config, RateLimit } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { addressPrefix } from './address-prefix.js';
import { FixedWindowCounter } from './fixed-window.js';

/** The limited entry points; each has its limit in `config.rateLimits`. */
export type RateRule = keyof Config['rateLimits'];

/** Where the request came from: a `client:` id and/or an `ip:` address; each is counted on its own. */
export type RateKey = `client:${string}` | `ip:${string}`;

interface Deps {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Rejections are counted here, by rule, when given. */
  metrics?: Metrics;
}

/**
 * A Redis command that takes longer than this counts as Redis being unavailable: the request
 * is counted in this process instead (fail over to per-replica limits, never to no limits).
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * Once Redis has failed to answer, requests are counted in this process for this long before
 * one request tries Redis again, so an outage costs one command timeout per this period,
 * not one per request (a flood during an outage would otherwise hold every request open).
 */
export const REDIS_RETRY_AFTER_MS = 5_000;

/**
 * An address is counted by its prefix (an IPv6 client's /64: see addressPrefix). Client ids
 * come from strangers; a long one is stored as its hash, so no key grows without bound.
 */
function storedKey(rateKey: RateKey): string {
  const key = rateKey.startsWith('ip:') ? `ip:${addressPrefix(rateKey.slice(3))}` : rateKey;
  return key.length <= 128
    ? key
    : `${key.slice(0, key.indexOf(':') + 1)}#${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * Request rate limits of the public entry points (dashboard sign-in, /oauth/token, connect
 * pages, magic links): fixed windows counted in this process by default, and in Redis
 * (rate-limiter-flexible, one atomic increment per key) when REDIS_URL is set, so N replicas
 * share one limit. While Redis does not answer, each replica counts alone.
 */
export class RateLimiter {
  private redis: Redis | undefined;
  private readonly local = new Map<RateRule, FixedWindowCounter>();
  private readonly shared = new Map<RateRule, RateLimiterRedis>();
  /** rate-limiter-flexible's answer to a hit over the limit, once the module is loaded. */
  private overLimit: typeof RateLimiterRes | undefined;
  /** ioredis's error for an answer Redis gave (a bad key, say): Redis is there. */
  private replyError: (new (...args: never[]) => Error) | undefined;
  /** Whether the outage was logged: one warning per outage. */
  private redisDown = false;
  /**
   * Until when requests skip Redis and are counted here (clock ms): `Infinity` while the
   * connection is lost (until ioredis is ready again), a while after a command went
   * unanswered, and 0 while Redis answers.
   */
  private localUntil = 0;
  /**
   * The Redis client and its counters, imported and set up after construction: ioredis and
   * rate-limiter-flexible are ~7 MB of heap and ~100 ms of start that a process without
   * REDIS_URL never uses. `consume` waits for them, so no request is counted before they are
   * in place.
   */
  private sharing: Promise<void> | undefined;

  /** The rules that have a limit, with it. */
  private readonly limits: [RateRule, RateLimit][];

  constructor(private readonly deps: Deps) {
    const { config, clock } = deps;
    this.limits = (Object.entries(config.rateLimits) as [RateRule, RateLimit | undefined][]).filter(
      (entry): entry is [RateRule, RateLimit] => entry[1] !== undefined,
    );
    for (const [rule, limit] of this.limits) this.local.set(rule, new FixedWindowCounter(limit, () => clock.now()));
    if (config.redis) {
      const redis = config.redis;
      this.sharing = this.shareThrough(redis).then(
        () => {
          this.sharing = undefined;
        },
        (err: unknown) => {
          this.sharing = undefined;
          deps.logger.error({ err }, 'the Redis client could not be loaded: rate limits are counted per replica');
        },
      );
    }
  }

  private async shareThrough(redis: NonNullable<Config['redis']>): Promise<void> {
    const [{ Redis, ReplyError }, flexible] = await Promise.all([import('ioredis'), import('rate-limiter-flexible')]);
    const client = new Redis(redis.url, {
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
    });
    // Without a listener ioredis prints every reconnect failure; one line per outage is enough.
    client.on('error', (err) => {
      if (!this.redisDown) this.deps.logger.warn({ err }, 'redis is unavailable: rate limits are counted per replica');
      this.redisDown = true;
      this.localUntil = Number.POSITIVE_INFINITY;
    });
    // A lost connection queues commands until ioredis reconnects or gives up: count here meanwhile.
    client.on('close', () => {
      this.localUntil = Number.POSITIVE_INFINITY;
    });
    client.on('ready', () => {
      this.redisDown = false;
      this.localUntil = 0;
    });
    this.redis = client;
    this.overLimit = flexible.RateLimiterRes;
    this.replyError = ReplyError;
    for (const [rule, limit] of this.limits) {
      this.shared.set(
        rule,
        new flexible.RateLimiterRedis({
          storeClient: client,
          keyPrefix: `${redis.keyPrefix}rate:${rule}`,
          points: limit.points,
          duration: limit.seconds,
        }),
      );
    }
  }

  /**
   * Counts one request of `rule` under every key; throws `rate_limited` (with the seconds to
   * wait in `details.retry_after_seconds`) when any of them is over its limit.
   */
  async consume(rule: RateRule, keys: RateKey[]): Promise<void> {
    const counter = this.local.get(rule);
    if (!counter) return;
    if (this.sharing) await this.sharing;
    let waitMs = 0;
    for (const key of keys) {
      const wait = await this.hit(rule, counter, storedKey(key));
      waitMs = Math.max(waitMs, wait);
    }
    if (waitMs > 0) {
      this.deps.metrics?.rateLimitRejection(rule);
      throw rateLimited(`too many requests; try again in ${Math.ceil(waitMs / 1000)} s`, waitMs);
    }
  }

  /** Milliseconds to wait when this hit was over the limit, else 0. */
  private async hit(rule: RateRule, counter: FixedWindowCounter, key: string): Promise<number> {
    const shared = this.shared.get(rule);
    const { clock } = this.deps;
    if (shared && clock.now() >= this.localUntil) {
      // After a failure, one request tries Redis again; the others count here until it is answered.
      if (this.localUntil > 0) this.localUntil = clock.now() + REDIS_COMMAND_TIMEOUT_MS;
      try {
        await shared.consume(key);
        this.localUntil = 0;
        return 0;
      } catch (outcome) {
        if (this.overLimit && outcome instanceof this.overLimit) {
          this.localUntil = 0;
          return Math.max(1, outcome.msBeforeNext);
        }
        const answered = this.replyError !== undefined && outcome instanceof this.replyError;
        if (!this.redisDown) this.deps.logger.warn({ err: outcome }, 'redis did not count a request: counted here');
        // A lost connection stays lost until ioredis is ready again.
        if (this.localUntil !== Number.POSITIVE_INFINITY) {
          this.localUntil = answered ? 0 : clock.now() + REDIS_RETRY_AFTER_MS;
        }
      }
    }
    const local = counter.hit(key);
    return local.allowed ? 0 : Math.max(1, local.retryAfterMs);
  }

  async close(): Promise<void> {
    if (this.sharing) await this.sharing;
    if (!this.redis) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/** The error of a limited request; `retry_after_seconds` becomes the answer's Retry-After header. */
export function rateLimited(message: string, waitMs: number): AppError {
  return new AppError('rate_limited', message, {
    details: { retry_after_seconds: Math.max(1, Math.ceil(waitMs / 1000)) },
  });
}

/** The Retry-After value of a `rate_limited` error (whole seconds, at least 1). */
export function retryAfterSeconds(error: AppError): string | undefined {
  if (error.code !== 'rate_limited') return undefined;
  const seconds = error.details?.retry_after_seconds;
  return String(typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : 1);
}
