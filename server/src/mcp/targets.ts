import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { hashSecret, safeEqual } from '../crypto/random.js';
import type { Database } from '../db/schema.js';

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

/** last_used_at moves at most this often per instance, so use costs a write a minute, not a write a call. */
const TOUCH_INTERVAL_MS = 60_000;

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

/** The hot path: URL or token → target, in one query each. Nothing is cached, so deletes act at once. */
export class McpTargets {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  /** The instance behind a capability URL secret, or undefined for any unknown or rotated secret. */
  async byInstanceSecret(secret: string): Promise<McpTarget | undefined> {
    const digest = hashSecret(secret);
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
    await this.touch(first.id, first.last_used_at);
    return new McpTarget(
      first.config_id,
      first.config_name,
      first.description,
      first.user_identifier,
      mappingsOf(rows),
      first.id,
    );
  }

  /** The config a session token names, for the token's user; undefined when the config is gone. */
  async byConfig(configId: string, userIdentifier: string): Promise<McpTarget | undefined> {
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
    return new McpTarget(first.id, first.name, first.description, userIdentifier, mappingsOf(rows));
  }

  private async touch(instanceId: string, lastUsedAt: string | null): Promise<void> {
    const now = this.deps.clock.now();
    if (lastUsedAt && now - Date.parse(lastUsedAt) < TOUCH_INTERVAL_MS) return;
    const stale = new Date(now - TOUCH_INTERVAL_MS).toISOString();
    await this.deps.db
      .updateTable('mcp_instances')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', instanceId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', stale)]))
      .execute();
  }
}
