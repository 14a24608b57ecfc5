import type { CompiledQuery, InferResult, Kysely } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { hashSecret, safeEqual } from '../crypto/random.js';
import { BatchedLookup } from '../db/batched-lookup.js';
import { compiledPerCount } from '../db/compiled-per-count.js';
import type { Database } from '../db/schema.js';
import type { UsageMarks } from '../db/usage-marks.js';

/** A mapping as the MCP endpoint needs it: which connection serves which tools. */
export interface TargetMapping {
  connectionName: string;
  provider: string;
  /** Empty = every tool of the provider. */
  tools: string[];
}

/**
 * Whom one MCP request acts for and what it may call: the user, the config's mappings, and
 * the instance when the request came through an instance URL.
 */
export class McpTarget {
  constructor(
    readonly configId: string,
    readonly configName: string,
    readonly description: string,
    readonly userIdentifier: string,
    readonly mappings: TargetMapping[],
    readonly instanceId?: string,
    /**
     * The user's account rows per connection name, when this request read them from the
     * database together with the instance (a cold cache): the call uses them as fresh rows.
     */
    readonly prefetched?: ReadonlyMap<string, PrefetchedAccount>,
  ) {}
}

/** An account and its connection as one query read them, for the tool call that follows. */
export interface PrefetchedAccount {
  account: AccountRow;
  connection: ConnectionRow;
}

/**
 * Where prefetched rows are kept for later calls: the accounts' tool-call cache. `generation`
 * is read before the query, so rows that a write overtook are not kept.
 */
export interface AccountPrefetchCache {
  readonly prefetchGeneration: number;
  prime(found: PrefetchedAccount, generation: number): void;
}

/** A cold instance lookup's result: what it resolves to, and the user's accounts it read. */
interface LoadedInstance {
  instance: CachedInstance;
  config: CachedConfig;
  prefetched: ReadonlyMap<string, PrefetchedAccount>;
}

/** Instances and configs kept per process; beyond this the oldest go first. */
const MAX_CACHED_INSTANCES = 100_000;
const MAX_CACHED_CONFIGS = 10_000;

/** What an instance URL resolves to, apart from its config (shared by all its instances). */
interface CachedInstance {
  id: string;
  configId: string;
  userIdentifier: string;
}

interface CachedConfig {
  id: string;
  name: string;
  description: string;
  mappings: TargetMapping[];
  /** The mapped connections' rows by id: a cold instance of a cached config reads only its own rows. */
  connections: ReadonlyMap<string, ConnectionRow>;
}

interface MappingColumns {
  tools: string | null;
  connection_name: string | null;
  provider: string | null;
}

/** The account columns of the instance lookups, prefixed to keep them apart. */
const ACCOUNT_COLUMNS = [
  'a.id as a_id',
  'a.connection_id as a_connection_id',
  'a.identifier as a_identifier',
  'a.status as a_status',
  'a.status_reason as a_status_reason',
  'a.tokens_enc as a_tokens_enc',
  'a.key_id as a_key_id',
  'a.token_expires_at as a_token_expires_at',
  'a.granted_scopes as a_granted_scopes',
  'a.provider_account as a_provider_account',
  'a.provider_subject as a_provider_subject',
  'a.token_version as a_token_version',
  'a.last_used_at as a_last_used_at',
  'a.created_at as a_created_at',
  'a.updated_at as a_updated_at',
] as const;

/** The connection columns of the full instance lookup. */
const CONNECTION_COLUMNS = [
  'conn.id as conn_id',
  'conn.target as conn_target',
  'conn.oauth_client_id as conn_oauth_client_id',
  'conn.oauth_client_secret_enc as conn_oauth_client_secret_enc',
  'conn.key_id as conn_key_id',
  'conn.scopes as conn_scopes',
  'conn.user_verify_url as conn_user_verify_url',
  'conn.created_at as conn_created_at',
  'conn.updated_at as conn_updated_at',
] as const;

type Prefixed<T, P extends string> = { [K in keyof T as `${P}${K & string}`]: T[K] };
/** Columns as left joins return them: NULL where the joined row is missing. */
type Nullable<T> = { [K in keyof T]: T[K] | null };
type MatchedAccount = Prefixed<AccountRow, 'a_'>;
type MatchedConnection = Prefixed<Omit<ConnectionRow, 'name' | 'provider'>, 'conn_'>;
/** The account columns: NULL where the user has no account at the mapped connection (or the config no mapping). */
type AccountColumns = Nullable<MatchedAccount>;
/** The connection columns: NULL where the config has no mapping. */
type ConnectionColumns = Nullable<MatchedConnection>;

/** The account of one row of an instance lookup, if the user has one there. */
function accountOf(row: AccountColumns): AccountRow | undefined {
  if (row.a_id === null) return undefined;
  // The join matched an account, so every column its table declares NOT NULL is set: the
  // join's NULLs only ever mean "no account here".
  const matched = row as MatchedAccount;
  return {
    id: matched.a_id,
    connection_id: matched.a_connection_id,
    identifier: matched.a_identifier,
    status: matched.a_status,
    status_reason: matched.a_status_reason,
    tokens_enc: matched.a_tokens_enc,
    key_id: matched.a_key_id,
    token_expires_at: matched.a_token_expires_at,
    granted_scopes: matched.a_granted_scopes,
    provider_account: matched.a_provider_account,
    provider_subject: matched.a_provider_subject,
    token_version: Number(matched.a_token_version),
    last_used_at: matched.a_last_used_at,
    created_at: matched.a_created_at,
    updated_at: matched.a_updated_at,
  };
}

/** The mapped connection of one row of the full instance lookup, if the config maps one there. */
function connectionOf(row: ConnectionColumns & MappingColumns): ConnectionRow | undefined {
  if (row.conn_id === null || row.connection_name === null || row.provider === null) return undefined;
  const matched = row as MatchedConnection;
  return {
    id: matched.conn_id,
    name: row.connection_name,
    provider: row.provider,
    target: matched.conn_target,
    oauth_client_id: matched.conn_oauth_client_id,
    oauth_client_secret_enc: matched.conn_oauth_client_secret_enc,
    key_id: matched.conn_key_id,
    scopes: matched.conn_scopes,
    user_verify_url: matched.conn_user_verify_url,
    created_at: matched.conn_created_at,
    updated_at: matched.conn_updated_at,
  };
}

/** Two rows of one table with the same value in every column. */
function sameRow<T extends object>(a: T, b: T): boolean {
  for (const key of Object.keys(a) as (keyof T)[]) if (a[key] !== b[key]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

/**
 * The user's accounts among a lookup's rows, by connection name. An account at a connection
 * the config does not have (a mapping newer than a cached config, its change not seen yet) is
 * left out: the call looks it up itself.
 */
function accountsOf(rows: AccountColumns[], config: CachedConfig): Map<string, PrefetchedAccount> {
  const found = new Map<string, PrefetchedAccount>();
  for (const row of rows) {
    const account = accountOf(row);
    const connection = account && config.connections.get(account.connection_id);
    if (account && connection) found.set(connection.name, { account, connection });
  }
  return found;
}

/**
 * A config as its lookup rows (one per mapping, in order) give it, with its connections' rows
 * (each passed through `share`, so configs that map the same connection can hold one row).
 */
function configOf(
  first: { config_id: string; config_name: string; description: string },
  rows: (ConnectionColumns & MappingColumns)[],
  share: (row: ConnectionRow) => ConnectionRow,
): CachedConfig {
  const mappings: TargetMapping[] = [];
  const connections = new Map<string, ConnectionRow>();
  for (const row of rows) {
    const read = connectionOf(row);
    if (row.tools === null || !read) continue;
    const connection = share(read);
    mappings.push({
      connectionName: connection.name,
      provider: connection.provider,
      tools: JSON.parse(row.tools) as string[],
    });
    connections.set(connection.id, connection);
  }
  return { id: first.config_id, name: first.config_name, description: first.description, mappings, connections };
}

/**
 * The cold lookup's query without its digest, built once: its ~35 selected columns cost more
 * to parse into Kysely's tree, and to compile, than the query costs SQLite to run.
 */
function buildInstanceLookup(db: Kysely<Database>) {
  return db
    .selectFrom('mcp_instances as i')
    .innerJoin('mcp_configs as c', 'c.id', 'i.config_id')
    .leftJoin('mcp_config_mappings as m', 'm.config_id', 'c.id')
    .leftJoin('connections as conn', 'conn.id', 'm.connection_id')
    .leftJoin('connected_accounts as a', (join) =>
      join.onRef('a.connection_id', '=', 'conn.id').onRef('a.identifier', '=', 'i.user_identifier'),
    )
    .select(ACCOUNT_COLUMNS)
    .select(CONNECTION_COLUMNS)
    .select([
      'i.id',
      'i.url_secret_hash',
      'i.user_identifier',
      'i.last_used_at',
      'c.id as config_id',
      'c.name as config_name',
      'c.description',
      'm.tools',
      'conn.name as connection_name',
      'conn.provider',
    ])
    .orderBy('m.position');
}

/**
 * The cold lookup of an instance whose config is cached with its connections (the usual
 * case: many users share a config): the instance row and the user's account at each mapped
 * connection, and nothing that every user of the config shares. Its mappings come in no
 * particular order; the cached config has them in order.
 */
function buildOwnRowsLookup(db: Kysely<Database>) {
  return db
    .selectFrom('mcp_instances as i')
    .leftJoin('mcp_config_mappings as m', 'm.config_id', 'i.config_id')
    .leftJoin('connected_accounts as a', (join) =>
      join.onRef('a.connection_id', '=', 'm.connection_id').onRef('a.identifier', '=', 'i.user_identifier'),
    )
    .select(ACCOUNT_COLUMNS)
    .select(['i.id', 'i.url_secret_hash', 'i.user_identifier', 'i.last_used_at', 'i.config_id']);
}

type InstanceLookup = ReturnType<typeof buildInstanceLookup>;
type InstanceLookupRow = InferResult<InstanceLookup>[number];
type OwnRowsLookup = ReturnType<typeof buildOwnRowsLookup>;
type OwnRowsLookupRow = InferResult<OwnRowsLookup>[number];

/** Digests per cold lookup query at most (one compiled text per count up to it). */
const DIGESTS_PER_LOOKUP = 16;

/** A lookup run with some digests, its text compiled once per count of them (db/compiled-per-count.ts). */
function digestLookup<Row>(
  db: Kysely<Database>,
  lookup: { where(column: 'i.url_secret_hash', op: 'in', value: string[]): { compile(): CompiledQuery<Row> } },
  traced: boolean,
): (digests: string[]) => Promise<Row[]> {
  return compiledPerCount(db, (digests) => lookup.where('i.url_secret_hash', 'in', digests).compile(), {
    width: 1,
    traced,
  });
}

/**
 * The hot path: URL or token → target. Resolved instances (by secret digest) and configs
 * with their mappings and connections are cached; a write to connections, configs, mappings or instances
 * empties both caches here at once and on every other replica at its next change-feed
 * poll, so a deleted or rotated URL stops working everywhere within a second. Unknown
 * secrets are never cached, so probing cannot fill memory.
 */
export class McpTargets {
  private readonly instances: ScopedCache<string, CachedInstance>;
  private readonly configs: ScopedCache<string, CachedConfig>;
  /** The cold lookup of everything an instance URL resolves to. */
  private readonly lookupAll: (digests: string[]) => Promise<InstanceLookupRow[]>;
  /**
   * The cold lookup of an instance's own rows, for when its config is cached: the first
   * calls of users who arrive together share a query.
   */
  readonly ownRows: BatchedLookup<OwnRowsLookupRow>;
  /** One row per connection for the cached configs, of the configs cache's generation (see shareConnection). */
  private sharedConnections = { generation: -1, rows: new Map<string, ConnectionRow>() };
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      changes: ChangeFeed;
      usage: UsageMarks;
      /** Where the accounts read with a cold instance lookup are kept for later calls. */
      accounts?: AccountPrefetchCache;
      /**
       * Database statements are traced: a span opens when a statement is compiled, so the
       * lookup is compiled for each call instead of once.
       */
      config?: { tracing: { enabled: boolean } };
    },
  ) {
    this.instances = deps.changes.cache(['mcp'], MAX_CACHED_INSTANCES, { name: 'mcp_instances' });
    const traced = deps.config?.tracing.enabled === true;
    this.lookupAll = digestLookup(deps.db, buildInstanceLookup(deps.db), traced);
    this.ownRows = new BatchedLookup(
      digestLookup(deps.db, buildOwnRowsLookup(deps.db), traced),
      (row) => row.url_secret_hash,
      DIGESTS_PER_LOOKUP,
    );
    this.configs = deps.changes.cache(['mcp'], MAX_CACHED_CONFIGS, { name: 'mcp_configs' });
  }

  /** The instance behind a capability URL secret, or undefined for any unknown or rotated secret. */
  async byInstanceSecret(secret: string): Promise<McpTarget | undefined> {
    const digest = hashSecret(secret);
    await this.deps.changes.sync();
    const instance = this.instances.get(digest);
    const config = instance && this.configs.get(instance.configId);
    const found = instance && config ? { instance, config } : await this.loadInstance(digest);
    if (!found) return undefined;
    this.deps.usage.mark('mcp_instances', found.instance.id);
    return new McpTarget(
      found.config.id,
      found.config.name,
      found.config.description,
      found.instance.userIdentifier,
      found.config.mappings,
      found.instance.id,
      'prefetched' in found ? found.prefetched : undefined,
    );
  }

  /**
   * The instance and its config from the database, cached for the next call; in the same
   * query, the user's account at each mapped connection (one round trip for a cold call:
   * instance → config → mappings → accounts), kept in the accounts' cache and handed to
   * this call as fresh rows. While any config is cached, the instance's own rows are read
   * first, without what its config shares with other instances, in one query with the other
   * cold lookups of this event-loop turn; only if its config is not among the cached ones is
   * the whole lookup run (a second round trip, once per config).
   */
  private async loadInstance(digest: string): Promise<LoadedInstance | undefined> {
    if (this.configs.size > 0) {
      const generations = this.generations();
      const rows = await this.ownRows.load(digest);
      const first = rows[0];
      if (!first || !safeEqual(first.url_secret_hash, digest)) return undefined;
      const config = this.configs.get(first.config_id);
      if (config) {
        return this.keep(digest, first, config, accountsOf(rows, config), generations);
      }
    }
    const generations = this.generations();
    const rows = await this.lookupAll([digest]);
    const first = rows[0];
    // The index lookup already matched; compare again in constant time as a second line of defence.
    if (!first || !safeEqual(first.url_secret_hash, digest)) return undefined;
    const config = configOf(first, rows, (row) => this.shareConnection(row, generations.configs));
    this.configs.set(first.config_id, config, generations.configs);
    return this.keep(digest, first, config, accountsOf(rows, config), generations);
  }

  /**
   * The row this process keeps for a connection, shared by every cached config that maps it
   * (a connection mapped by thousands of configs is held once): `row` itself unless an equal
   * row is kept. Emptied with the configs; a row read before they were emptied is not kept.
   */
  private shareConnection(row: ConnectionRow, generation: number): ConnectionRow {
    if (generation !== this.configs.generation) return row;
    if (this.sharedConnections.generation !== generation) {
      this.sharedConnections = { generation, rows: new Map() };
    }
    const { rows } = this.sharedConnections;
    const kept = rows.get(row.id);
    if (kept && sameRow(kept, row)) return kept;
    if (!kept && rows.size >= MAX_CACHED_CONFIGS) rows.clear();
    rows.set(row.id, row);
    return row;
  }

  /** The caches' generations, read before a lookup whose rows they may keep. */
  private generations() {
    return {
      instances: this.instances.generation,
      configs: this.configs.generation,
      accounts: this.deps.accounts?.prefetchGeneration,
    };
  }

  /** Caches a looked-up instance and the accounts read with it, unless a write overtook the lookup. */
  private keep(
    digest: string,
    row: { id: string; config_id: string; user_identifier: string; last_used_at: string | null },
    config: CachedConfig,
    prefetched: Map<string, PrefetchedAccount>,
    generations: ReturnType<McpTargets['generations']>,
  ): LoadedInstance {
    const instance = { id: row.id, configId: row.config_id, userIdentifier: row.user_identifier };
    this.instances.set(digest, instance, generations.instances);
    this.deps.usage.seen('mcp_instances', row.id, row.last_used_at);
    for (const found of prefetched.values()) {
      // The call that follows marks the account it uses: a use read here within the minute spares that write.
      this.deps.usage.seen('connected_accounts', found.account.id, found.account.last_used_at);
      if (generations.accounts !== undefined) this.deps.accounts?.prime(found, generations.accounts);
    }
    return { instance, config, prefetched };
  }

  /** The config a session token names, for the token's user; undefined when the config is gone. */
  async byConfig(configId: string, userIdentifier: string): Promise<McpTarget | undefined> {
    await this.deps.changes.sync();
    const cached = this.configs.get(configId);
    if (cached) return new McpTarget(cached.id, cached.name, cached.description, userIdentifier, cached.mappings);
    const generation = this.configs.generation;
    const rows = await this.deps.db
      .selectFrom('mcp_configs as c')
      .leftJoin('mcp_config_mappings as m', 'm.config_id', 'c.id')
      .leftJoin('connections as conn', 'conn.id', 'm.connection_id')
      .select(CONNECTION_COLUMNS)
      .select([
        'c.id as config_id',
        'c.name as config_name',
        'c.description',
        'm.tools',
        'conn.name as connection_name',
        'conn.provider',
      ])
      .where('c.id', '=', configId)
      .orderBy('m.position')
      .execute();
    const first = rows[0];
    if (!first) return undefined;
    const config = configOf(first, rows, (row) => this.shareConnection(row, generation));
    this.configs.set(configId, config, generation);
    const { mappings } = config;
    return new McpTarget(config.id, config.name, config.description, userIdentifier, mappings);
  }
}
