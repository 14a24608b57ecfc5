import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Where a tool call came in. */
export type CallSource = 'API' | 'MCP' | 'GRPC';

/** What a scrape reads from a cache (ScopedCache keeps these as plain numbers). */
export interface CacheCounts {
  readonly name: string;
  readonly hits: number;
  readonly misses: number;
}

/** What a scrape reads from a batched lookup (BatchedLookup keeps these as plain numbers). */
export interface LookupCounts {
  readonly queries: number;
  readonly keys: number;
}

/** A pg.Pool's counters, read on scrape. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Call latencies: most calls take a few ms of our time, providers tens to hundreds of ms. */
const OWN_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const PROVIDER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Accounts by status is a grouped count over a table that grows; a scrape reuses it this long. */
const ACCOUNT_COUNT_TTL_MS = 5_000;

type CallLabels = Record<'tool' | 'provider' | 'source' | 'outcome', string>;

/** One label set's counts of a CountingHistogram: per bucket (not cumulative), sum and count. */
interface HistogramSeries {
  readonly perBucket: Float64Array;
  sum: number;
  count: number;
}

/**
 * A prom-client histogram with one label whose observations cost a bucket search and three
 * additions. prom-client's own `labels(…).observe()` validates, copies and hashes the labels
 * on every observation, which a tool call paid twice. The series are kept here and exported in
 * prom-client's own shape (both the text and the JSON registry paths read them), so a scrape
 * reads exactly what a prom-client Histogram would write (metrics.test.ts holds it to that).
 */
class CountingHistogram<L extends string> extends Histogram<L> {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    private readonly spec: { name: string; help: string; label: L; buckets: number[]; registers: Registry[] },
  ) {
    super({
      name: spec.name,
      help: spec.help,
      labelNames: [spec.label],
      buckets: spec.buckets,
      registers: spec.registers,
    });
  }

  /** One observation of the series `labelValue` (made on first use and kept: label values are a closed set). */
  record(labelValue: string, value: number): void {
    const { buckets } = this.spec;
    let series = this.series.get(labelValue);
    if (!series) {
      series = { perBucket: new Float64Array(buckets.length), sum: 0, count: 0 };
      this.series.set(labelValue, series);
    }
    for (let i = 0; i < buckets.length; i++) {
      if (value <= (buckets[i] as number)) {
        (series.perBucket[i] as number) += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** What the registry writes as text: bucket lines carry `le`, the series label comes after it. */
  async getForPromString() {
    const { name, help, label, buckets } = this.spec;
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
    }[] = [];
    for (const [labelValue, series] of this.series) {
      const sharedLabels = { [label]: labelValue };
      let cumulative = 0;
      buckets.forEach((upper, i) => {
        cumulative += series.perBucket[i] as number;
        values.push({ labels: { le: upper }, sharedLabels, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: `${name}_bucket` });
      values.push({ labels: {}, sharedLabels, value: series.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, sharedLabels, value: series.count, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram' as const, values, aggregator: 'sum' as const };
  }

  override async get(): ReturnType<Histogram<L>['get']> {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      metricName,
    }));
    // prom-client's type asks for a collect function on the result, which its own get() leaves out.
    return { ...data, values } as unknown as Awaited<ReturnType<Histogram<L>['get']>>;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets too, before this class's fields exist.
    (this.series as Map<string, HistogramSeries> | undefined)?.clear();
  }
}

/**
 * Prometheus metrics of one process, on a registry of its own (tests build many apps in one
 * process). Every label value comes from a closed set — tool and provider names from the
 * catalog, sources, error codes, cache and queue names — never an id, identifier or secret.
 * The hot path (a tool call) touches only counts kept in maps by label value, so a call costs
 * a few map reads and additions; prom-client reads them, and everything else (caches, queues,
 * pools, accounts), when Prometheus scrapes.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly ownSeconds: CountingHistogram<'source'>;
  private readonly providerSeconds: CountingHistogram<'provider'>;
  private readonly refreshes: Counter<'outcome'>;
  private readonly rateLimited: Counter<'rule'>;
  /**
   * Tool calls by tool, source and outcome (the provider follows from the tool): the labels and
   * the count, read on scrape in the order they first appeared.
   */
  private readonly callCounts = new Map<string, { labels: CallLabels; n: number }>();
  private readonly caches: (() => readonly CacheCounts[])[] = [];
  private readonly queues = new Map<string, () => number>();
  private readonly lookups = new Map<string, LookupCounts>();
  private pool: PoolCounts | undefined;
  private accountCounter: (() => Promise<Record<string, number>>) | undefined;
  private accountCounts: { at: number; counts: Promise<Record<string, number>> } | undefined;

  constructor(options: { processMetrics?: boolean; now?: () => number } = {}) {
    const registers = [this.registry];
    const now = options.now ?? (() => performance.now());
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
    const metrics = this;
    new Counter({
      name: 'switchboard_tool_calls_total',
      help: 'Tool calls by tool, provider, source (API, MCP, GRPC) and outcome (success, or the error code)',
      labelNames: ['tool', 'provider', 'source', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const { labels, n } of metrics.callCounts.values()) this.inc(labels, n);
      },
    });
    this.ownSeconds = new CountingHistogram({
      name: 'switchboard_tool_call_own_seconds',
      help: "Switchboard's own time in a tool call: the call's duration less the time spent waiting for the provider",
      label: 'source',
      buckets: OWN_BUCKETS,
      registers,
    });
    this.providerSeconds = new CountingHistogram({
      name: 'switchboard_tool_call_provider_seconds',
      help: "The provider's time in a tool call (every HTTP request the call made, retries included)",
      label: 'provider',
      buckets: PROVIDER_BUCKETS,
      registers,
    });
    this.refreshes = new Counter({
      name: 'switchboard_token_refreshes_total',
      help: 'Access token refreshes at the provider, by outcome (success, refused: the grant is gone, failed: the provider could not be reached or answered badly)',
      labelNames: ['outcome'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'switchboard_rate_limit_rejections_total',
      help: 'Requests refused by a rate limit, by rule',
      labelNames: ['rule'],
      registers,
    });
    new Counter({
      name: 'switchboard_cache_lookups_total',
      help: 'In-process cache lookups by cache and result (hit or miss)',
      labelNames: ['cache', 'result'],
      registers,
      collect() {
        this.reset();
        for (const list of metrics.caches) {
          for (const cache of list()) {
            this.inc({ cache: cache.name, result: 'hit' }, cache.hits);
            this.inc({ cache: cache.name, result: 'miss' }, cache.misses);
          }
        }
      },
    });
    new Counter({
      name: 'switchboard_batched_lookup_queries_total',
      help: 'Queries run by a batched lookup (cold instance lookups asked for in one event-loop turn share one)',
      labelNames: ['lookup'],
      registers,
      collect() {
        this.reset();
        for (const [lookup, counts] of metrics.lookups) this.inc({ lookup }, counts.queries);
      },
    });
    new Counter({
      name: 'switchboard_batched_lookup_keys_total',
      help: 'Keys carried by those queries: keys over queries is the mean batch',
      labelNames: ['lookup'],
      registers,
      collect() {
        this.reset();
        for (const [lookup, counts] of metrics.lookups) this.inc({ lookup }, counts.keys);
      },
    });
    new Gauge({
      name: 'switchboard_write_behind_pending',
      help: 'Items waiting in a write-behind queue (tool call log rows, last-used marks)',
      labelNames: ['queue'],
      registers,
      collect() {
        for (const [queue, depth] of metrics.queues) this.set({ queue }, depth());
      },
    });
    new Gauge({
      name: 'switchboard_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and requests waiting for one',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = metrics.pool;
        if (!pool) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'switchboard_connected_accounts',
      help: `Connected accounts by status (counted at most every ${ACCOUNT_COUNT_TTL_MS / 1000} s)`,
      labelNames: ['status'],
      registers,
      async collect() {
        const counter = metrics.accountCounter;
        if (!counter) return;
        const cached = metrics.accountCounts;
        if (!cached || now() - cached.at >= ACCOUNT_COUNT_TTL_MS) {
          metrics.accountCounts = { at: now(), counts: counter() };
        }
        const counts = await (metrics.accountCounts as { counts: Promise<Record<string, number>> }).counts.catch(
          (): Record<string, number> => {
            metrics.accountCounts = undefined;
            return {};
          },
        );
        this.reset();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
  }

  /**
   * One finished tool call. `tool` and `provider` must be catalog names (an unknown tool name
   * comes from the caller: pass undefined); `outcome` is 'success' or the error code.
   */
  toolCall(
    tool: string | undefined,
    provider: string | undefined,
    source: CallSource,
    outcome: string,
    totalMs: number,
    providerMs: number,
  ): void {
    const toolName = tool ?? 'unknown';
    const providerName = provider ?? 'unknown';
    const key = `${toolName}\u0000${source}\u0000${outcome}`;
    let count = this.callCounts.get(key);
    if (!count) {
      count = { labels: { tool: toolName, provider: providerName, source, outcome }, n: 0 };
      this.callCounts.set(key, count);
    }
    count.n++;
    this.ownSeconds.record(source, Math.max(0, totalMs - providerMs) / 1000);
    if (providerMs > 0) this.providerSeconds.record(providerName, providerMs / 1000);
  }

  tokenRefresh(outcome: 'success' | 'refused' | 'failed'): void {
    this.refreshes.inc({ outcome });
  }

  rateLimitRejection(rule: string): void {
    this.rateLimited.inc({ rule });
  }

  /** Caches to report on every scrape (the change feed's list). */
  watchCaches(list: () => readonly CacheCounts[]): void {
    this.caches.push(list);
  }

  watchQueue(name: string, depth: () => number): void {
    this.queues.set(name, depth);
  }

  watchLookup(name: string, counts: LookupCounts): void {
    this.lookups.set(name, counts);
  }

  watchPool(pool: PoolCounts): void {
    this.pool = pool;
  }

  /** How to count accounts by status (one grouped query); run at most every few seconds. */
  watchAccounts(count: () => Promise<Record<string, number>>): void {
    this.accountCounter = count;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything above. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
