import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Where a tool call came in. */
export type CallSource = 'API' | 'MCP' | 'GRPC';

/** What a scrape reads from a cache (ScopedCache keeps these as plain numbers). */
export interface CacheCounts {
  readonly name: string;
  readonly hits: number;
  readonly misses: number;
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

type CallCounter = Counter<'tool' | 'provider' | 'source' | 'outcome'>;
type CounterChild = ReturnType<CallCounter['labels']>;
type HistogramChild = { observe(value: number): void };

/**
 * Prometheus metrics of one process, on a registry of its own (tests build many apps in one
 * process). Every label value comes from a closed set — tool and provider names from the
 * catalog, sources, error codes, cache and queue names — never an id, identifier or secret.
 * The hot path (a tool call) touches only label children bound once and kept in maps, so a
 * call costs a few map reads and additions; everything else (caches, queues, pools, accounts)
 * is read when Prometheus scrapes.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly toolCalls: CallCounter;
  private readonly ownSeconds: Histogram<'source'>;
  private readonly providerSeconds: Histogram<'provider'>;
  private readonly refreshes: Counter<'outcome'>;
  private readonly rateLimited: Counter<'rule'>;
  private readonly callChildren = new Map<string, Map<string, Map<string, CounterChild>>>();
  private readonly ownChildren = new Map<string, HistogramChild>();
  private readonly providerChildren = new Map<string, HistogramChild>();
  private readonly caches: (() => readonly CacheCounts[])[] = [];
  private readonly queues = new Map<string, () => number>();
  private pool: PoolCounts | undefined;
  private accountCounter: (() => Promise<Record<string, number>>) | undefined;
  private accountCounts: { at: number; counts: Promise<Record<string, number>> } | undefined;

  constructor(options: { processMetrics?: boolean; now?: () => number } = {}) {
    const registers = [this.registry];
    const now = options.now ?? (() => performance.now());
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
    this.toolCalls = new Counter({
      name: 'switchboard_tool_calls_total',
      help: 'Tool calls by tool, provider, source (API, MCP, GRPC) and outcome (success, or the error code)',
      labelNames: ['tool', 'provider', 'source', 'outcome'],
      registers,
    });
    this.ownSeconds = new Histogram({
      name: 'switchboard_tool_call_own_seconds',
      help: "Switchboard's own time in a tool call: the call's duration less the time spent waiting for the provider",
      labelNames: ['source'],
      buckets: OWN_BUCKETS,
      registers,
    });
    this.providerSeconds = new Histogram({
      name: 'switchboard_tool_call_provider_seconds',
      help: "The provider's time in a tool call (every HTTP request the call made, retries included)",
      labelNames: ['provider'],
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
    const metrics = this;
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
    let bySource = this.callChildren.get(toolName);
    if (!bySource) {
      bySource = new Map();
      this.callChildren.set(toolName, bySource);
    }
    let byOutcome = bySource.get(source);
    if (!byOutcome) {
      byOutcome = new Map();
      bySource.set(source, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (!child) {
      child = this.toolCalls.labels(toolName, providerName, source, outcome);
      byOutcome.set(outcome, child);
    }
    child.inc();
    let own = this.ownChildren.get(source);
    if (!own) {
      own = this.ownSeconds.labels(source);
      this.ownChildren.set(source, own);
    }
    own.observe(Math.max(0, totalMs - providerMs) / 1000);
    if (providerMs > 0) {
      let theirs = this.providerChildren.get(providerName);
      if (!theirs) {
        theirs = this.providerSeconds.labels(providerName);
        this.providerChildren.set(providerName, theirs);
      }
      theirs.observe(providerMs / 1000);
    }
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
