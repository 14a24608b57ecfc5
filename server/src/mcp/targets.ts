import type { CompiledQuery, InferResult, Kysely } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { hashSecret, safeEqual } from '../crypto/random.js';
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
}

interface MappingColumns {
  tools: string | null;
  connection_name: string | null;
  provider: string | null;
}

/** The account and connection columns of the instance lookup, prefixed to keep them apart. */
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
/** The account and connection columns of a row where the user has an account at the mapped connection. */
type MatchedColumns = Prefixed<AccountRow, 'a_'> & Prefixed<Omit<ConnectionRow, 'name' | 'provider'>, 'conn_'>;
/** The same columns as the left joins return them: NULL where the user has no account (or the config no mapping). */
type AccountColumns = { [K in keyof MatchedColumns]: MatchedColumns[K] | null };

/** The account (and its connection) of one row of the instance lookup, if the user has one there. */
function prefetchedOf(row: AccountColumns & MappingColumns): PrefetchedAccount | undefined {
  if (row.a_id === null || row.conn_id === null || row.connection_name === null || row.provider === null)
    return undefined;
  // The joins matched an account, so every column its table declares NOT NULL is set: the
  // joins' NULLs only ever mean "no account here".
  const matched = row as MatchedColumns;
  return {
    account: {
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
    },
    connection: {
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
    },
  };
}

function mappingsOf(rows: MappingColumns[]): TargetMapping[] {
  const out: TargetMapping[] = [];
  for (const row of rows) {
    if (row.tools === null || row.connection_name === null || row.provider === null) continue;
    out.push({ connectionName: row.connection_name, provider: row.provider, tools: JSON.parse(row.tools) as string[] });
  }
  return out;
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

type InstanceLookup = ReturnType<typeof buildInstanceLookup>;
type InstanceLookupRow = InferResult<InstanceLookup>[number];

/** The value that stands for the digest while the lookup is compiled, found again by identity. */
const DIGEST_SLOT = '\u0000digest';

/**
 * Compiles the lookup with the digest as its only parameter, so a call runs it with its own
 * digest and no compile (dialect-neutral: the dialect wrote the text and its placeholder).
 */
function compileWithSlot(lookup: InstanceLookup): CompiledQuery<InstanceLookupRow> {
  const compiled = lookup.where('i.url_secret_hash', '=', DIGEST_SLOT).compile();
  if (compiled.parameters.length !== 1 || compiled.parameters[0] !== DIGEST_SLOT) {
    throw new Error('the instance lookup must compile to one parameter, the digest');
  }
  return compiled;
}

/**
 * The hot path: URL or token → target. Resolved instances (by secret digest) and configs
 * with their mappings are cached; a write to connections, configs, mappings or instances
 * empties both caches here at once and on every other replica at its next change-feed
 * poll, so a deleted or rotated URL stops working everywhere within a second. Unknown
 * secrets are never cached, so probing cannot fill memory.
 */
export class McpTargets {
  private readonly instances: ScopedCache<string, CachedInstance>;
  private readonly configs: ScopedCache<string, CachedConfig>;
  private readonly instanceLookup: InstanceLookup;
  /** The cold lookup compiled once, its one parameter the digest (none while statements are traced). */
  private readonly compiledLookup: CompiledQuery<InstanceLookupRow> | undefined;
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
    this.instanceLookup = buildInstanceLookup(deps.db);
    this.compiledLookup = deps.config?.tracing.enabled ? undefined : compileWithSlot(this.instanceLookup);
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
   * this call as fresh rows.
   */
  private async loadInstance(digest: string): Promise<
    | {
        instance: CachedInstance;
        config: CachedConfig;
        prefetched: ReadonlyMap<string, PrefetchedAccount>;
      }
    | undefined
  > {
    const generation = this.instances.generation;
    const accountsGeneration = this.deps.accounts?.prefetchGeneration;
    const rows = this.compiledLookup
      ? (await this.deps.db.executeQuery<InstanceLookupRow>({ ...this.compiledLookup, parameters: [digest] })).rows
      : await this.instanceLookup.where('i.url_secret_hash', '=', digest).execute();
    const first = rows[0];
    // The index lookup already matched; compare again in constant time as a second line of defence.
    if (!first || !safeEqual(first.url_secret_hash, digest)) return undefined;
    const instance = { id: first.id, configId: first.config_id, userIdentifier: first.user_identifier };
    const config = {
      id: first.config_id,
      name: first.config_name,
      description: first.description,
      mappings: mappingsOf(rows),
    };
    this.instances.set(digest, instance, generation);
    this.configs.set(first.config_id, config, generation);
    this.deps.usage.seen('mcp_instances', first.id, first.last_used_at);
    const prefetched = new Map<string, PrefetchedAccount>();
    for (const row of rows) {
      const found = prefetchedOf(row);
      if (!found) continue;
      prefetched.set(found.connection.name, found);
      if (accountsGeneration !== undefined) this.deps.accounts?.prime(found, accountsGeneration);
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
      .select(['c.id', 'c.name', 'c.description', 'm.tools', 'conn.name as connection_name', 'conn.provider'])
      .where('c.id', '=', configId)
      .orderBy('m.position')
      .execute();
    const first = rows[0];
    if (!first) return undefined;
    const mappings = mappingsOf(rows);
    this.configs.set(
      configId,
      { id: first.id, name: first.name, description: first.description, mappings },
      generation,
    );
    return new McpTarget(first.id, first.name, first.description, userIdentifier, mappings);
  }
}
