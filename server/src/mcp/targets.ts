import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
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
  ) {}
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

function mappingsOf(rows: MappingColumns[]): TargetMapping[] {
  const out: TargetMapping[] = [];
  for (const row of rows) {
    if (row.tools === null || row.connection_name === null || row.provider === null) continue;
    out.push({ connectionName: row.connection_name, provider: row.provider, tools: JSON.parse(row.tools) as string[] });
  }
  return out;
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
  constructor(private readonly deps: { db: Kysely<Database>; changes: ChangeFeed; usage: UsageMarks }) {
    this.instances = deps.changes.cache(['mcp'], MAX_CACHED_INSTANCES, { name: 'mcp_instances' });
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
    );
  }

  /** The instance and its config from the database, cached for the next call. */
  private async loadInstance(digest: string): Promise<{ instance: CachedInstance; config: CachedConfig } | undefined> {
    const generation = this.instances.generation;
    const rows = await this.deps.db
      .selectFrom('mcp_instances as i')
      .innerJoin('mcp_configs as c', 'c.id', 'i.config_id')
      .leftJoin('mcp_config_mappings as m', 'm.config_id', 'c.id')
      .leftJoin('connections as conn', 'conn.id', 'm.connection_id')
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
      .where('i.url_secret_hash', '=', digest)
      .orderBy('m.position')
      .execute();
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
    return { instance, config };
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
