import type { McpConfig } from '@switchboard/sdk';
import { type Kysely, sql } from 'kysely';
import type { SigningKeys } from '../auth/signing-keys.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { isUniqueViolation } from '../connections/connections.js';
import { newId } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Catalog } from '../providers/index.js';

/** At most this many connection → tools mappings per config (reference rule). */
export const MAX_MAPPINGS = 25;

export const CONFIG_NAME_PATTERN = /^[a-z0-9_-]{1,100}$/;

export interface MappingInput {
  connectionName: string;
  /** Empty = every tool of the connection's provider. */
  tools: string[];
}

/** A mapping as stored and shown: the connection it names, resolved. */
export interface MappingDetail {
  connection_id: string;
  connection_name: string;
  provider: string;
  tools: string[];
}

export interface ConfigDetail {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  mappings: MappingDetail[];
}

export interface ConfigListFilter {
  id?: string;
  name?: string;
  provider?: string;
  search?: string;
  limit: number;
  offset: number;
}

/** Config details kept per process (by id and by name); beyond this the oldest go first. */
const MAX_CACHED_CONFIGS = 2_000;

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  catalog: Catalog;
  changes: ChangeFeed;
}

/** The one static MCP URL of a config, answered with session tokens. */
export function configServerUrl(publicUrl: string, configId: string): string {
  return `${publicUrl}/mcp/c/${configId}`;
}

/**
 * The payload of a token this server signed for config `configId`'s URL (signature, expiry,
 * issuer and audience checked), or undefined when it does not verify.
 */
export async function verifyConfigToken(
  signingKeys: SigningKeys,
  publicUrl: string,
  token: string,
  configId: string,
): Promise<Awaited<ReturnType<SigningKeys['verify']>> | undefined> {
  try {
    return await signingKeys.verify(token, { audience: configServerUrl(publicUrl, configId), issuer: publicUrl });
  } catch {
    return undefined;
  }
}

/** The config in the reference's wire shape (mcpMcpConfig). */
export function configToApi(detail: ConfigDetail, publicUrl: string): McpConfig {
  return {
    id: detail.id,
    name: detail.name,
    description: detail.description,
    connection_tool_mappings: detail.mappings.map((m) => ({
      connection_id: m.connection_id,
      connection_name: m.connection_name,
      provider: m.provider,
      tools: m.tools,
    })),
    mcp_server_url: configServerUrl(publicUrl, detail.id),
  };
}

/** `column LIKE 'text%'` with LIKE's wildcards in `text` taken literally, on both engines. */
export function startsWith(column: string, text: string) {
  const pattern = `${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  return sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;
}

/** MCP configs: a name plus the tools each mapped connection exposes. */
export class McpConfigs {
  private readonly detailCache: ScopedCache<string, ConfigDetail>;

  constructor(private readonly deps: Deps) {
    this.detailCache = deps.changes.cache(['mcp'], MAX_CACHED_CONFIGS, { name: 'mcp_config_details' });
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * Resolves mapping inputs against connections and the catalog. Every unknown connection
   * or tool is named in one error; so is a tool that two mappings would both expose,
   * because MCP tool names must be unique on one server.
   */
  async resolveMappings(inputs: MappingInput[]): Promise<MappingDetail[]> {
    if (inputs.length > MAX_MAPPINGS) {
      throw new AppError('validation_failed', `connection_tool_mappings: at most ${MAX_MAPPINGS} mappings are allowed`);
    }
    const names = inputs.map((m) => m.connectionName);
    const duplicates = names.filter((name, i) => names.indexOf(name) !== i);
    if (duplicates.length) {
      throw new AppError(
        'validation_failed',
        `connection_tool_mappings: connection ${[...new Set(duplicates)].join(', ')} is mapped more than once`,
      );
    }
    const rows = names.length
      ? await this.deps.db
          .selectFrom('connections')
          .select(['id', 'name', 'provider'])
          .where('name', 'in', names)
          .execute()
      : [];
    const byName = new Map(rows.map((row) => [row.name, row]));
    const unknownConnections = names.filter((name) => !byName.has(name));
    const problems: string[] = [];
    if (unknownConnections.length) problems.push(`unknown connection ${unknownConnections.join(', ')}`);

    const exposedBy = new Map<string, string>();
    const collisions: string[] = [];
    const details: MappingDetail[] = [];
    for (const input of inputs) {
      const connection = byName.get(input.connectionName);
      if (!connection) continue;
      const provider = this.deps.catalog.providers.get(connection.provider);
      const providerTools = new Set(provider?.tools.map((t) => t.name) ?? []);
      const tools = [...new Set(input.tools)];
      const unknownTools = tools.filter((tool) => !providerTools.has(tool));
      if (unknownTools.length) {
        problems.push(
          `unknown tool ${unknownTools.join(', ')} for connection ${connection.name} (provider ${connection.provider})`,
        );
      }
      for (const tool of tools.length ? tools : providerTools) {
        const other = exposedBy.get(tool);
        if (other) collisions.push(`${tool} (${other} and ${connection.name})`);
        else exposedBy.set(tool, connection.name);
      }
      details.push({
        connection_id: connection.id,
        connection_name: connection.name,
        provider: connection.provider,
        tools,
      });
    }
    if (collisions.length) problems.push(`tools exposed by two connections: ${collisions.slice(0, 10).join(', ')}`);
    if (problems.length) throw new AppError('validation_failed', `connection_tool_mappings: ${problems.join('; ')}`);
    return details;
  }

  async create(input: { name: string; description: string; mappings: MappingInput[] }): Promise<ConfigDetail> {
    const mappings = await this.resolveMappings(input.mappings);
    const id = newId('cfg');
    const now = this.now();
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('mcp_configs')
          .values({ id, name: input.name, description: input.description, created_at: now, updated_at: now })
          .execute();
        await this.insertMappings(trx, id, mappings);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('already_exists', `an MCP config named ${input.name} already exists`);
      throw error;
    }
    return { id, name: input.name, description: input.description, created_at: now, updated_at: now, mappings };
  }

  private async insertMappings(db: Kysely<Database>, configId: string, mappings: MappingDetail[]) {
    if (!mappings.length) return;
    await db
      .insertInto('mcp_config_mappings')
      .values(
        mappings.map((m, position) => ({
          config_id: configId,
          connection_id: m.connection_id,
          position,
          tools: JSON.stringify(m.tools),
        })),
      )
      .execute();
  }

  /** PUT semantics: a given mapping list replaces the old one wholesale. */
  async update(id: string, patch: { description?: string; mappings?: MappingInput[] }): Promise<ConfigDetail> {
    const existing = await this.get(id);
    const mappings = patch.mappings ? await this.resolveMappings(patch.mappings) : existing.mappings;
    const updatedAt = this.now();
    const description = patch.description ?? existing.description;
    await this.deps.changes.write(['mcp'], async (trx) => {
      await trx.updateTable('mcp_configs').set({ description, updated_at: updatedAt }).where('id', '=', id).execute();
      if (patch.mappings) {
        await trx.deleteFrom('mcp_config_mappings').where('config_id', '=', id).execute();
        await this.insertMappings(trx, id, mappings);
      }
    });
    return { ...existing, description, updated_at: updatedAt, mappings };
  }

  async delete(id: string): Promise<void> {
    // Mappings and instances go with the config (ON DELETE CASCADE).
    await this.deps.changes.write(['mcp'], async (trx) => {
      const result = await trx.deleteFrom('mcp_configs').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new AppError('not_found', `MCP config ${id} not found`);
    });
  }

  async get(id: string): Promise<ConfigDetail> {
    const found = await this.cachedDetail(`id:${id}`, async () => (await this.details([id])).get(id));
    if (!found) throw new AppError('not_found', `MCP config ${id} not found`);
    return found;
  }

  /** One query (config and mappings by name) on a miss, none on a hit: ensure-instance reads it every call. */
  async getByName(name: string): Promise<ConfigDetail> {
    const key = name.toLowerCase();
    const found = await this.cachedDetail(`name:${key}`, async () => {
      const [detail] = (await this.details({ name: key })).values();
      return detail;
    });
    if (!found) throw new AppError('not_found', `MCP config ${name} not found`);
    return found;
  }

  /**
   * Configs by id or name, cached until any replica changes a config, mapping, connection or
   * instance (the `mcp` scope). Unknown configs are not cached. Callers must not mutate the result.
   */
  private async cachedDetail(
    key: string,
    load: () => Promise<ConfigDetail | undefined>,
  ): Promise<ConfigDetail | undefined> {
    await this.deps.changes.sync();
    const hit = this.detailCache.get(key);
    if (hit) return hit;
    const generation = this.detailCache.generation;
    const found = await load();
    if (found) this.detailCache.set(key, found, generation);
    return found;
  }

  /** Configs with their mappings, in one query. */
  async details(which: string[] | { name: string }): Promise<Map<string, ConfigDetail>> {
    const out = new Map<string, ConfigDetail>();
    if (Array.isArray(which) && !which.length) return out;
    const rows = await this.deps.db
      .selectFrom('mcp_configs as c')
      .leftJoin('mcp_config_mappings as m', 'm.config_id', 'c.id')
      .leftJoin('connections as conn', 'conn.id', 'm.connection_id')
      .select([
        'c.id',
        'c.name',
        'c.description',
        'c.created_at',
        'c.updated_at',
        'm.position',
        'm.tools',
        'conn.id as connection_id',
        'conn.name as connection_name',
        'conn.provider',
      ])
      .where((eb) => (Array.isArray(which) ? eb('c.id', 'in', [...new Set(which)]) : eb('c.name', '=', which.name)))
      .orderBy('c.id')
      .orderBy('m.position')
      .execute();
    for (const row of rows) {
      let detail = out.get(row.id);
      if (!detail) {
        detail = {
          id: row.id,
          name: row.name,
          description: row.description,
          created_at: row.created_at,
          updated_at: row.updated_at,
          mappings: [],
        };
        out.set(row.id, detail);
      }
      if (row.connection_id && row.connection_name && row.provider && row.tools !== null) {
        detail.mappings.push({
          connection_id: row.connection_id,
          connection_name: row.connection_name,
          provider: row.provider,
          tools: JSON.parse(row.tools) as string[],
        });
      }
    }
    return out;
  }

  async list(filter: ConfigListFilter): Promise<{ rows: ConfigDetail[]; total: number }> {
    let q = this.deps.db.selectFrom('mcp_configs as c');
    if (filter.id) q = q.where('c.id', '=', filter.id);
    if (filter.name) q = q.where('c.name', '=', filter.name.toLowerCase());
    if (filter.search) q = q.where(startsWith('c.name', filter.search.toLowerCase()));
    if (filter.provider) {
      const provider = filter.provider.toLowerCase();
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('mcp_config_mappings as m')
            .innerJoin('connections as conn', 'conn.id', 'm.connection_id')
            .select('m.config_id')
            .whereRef('m.config_id', '=', 'c.id')
            .where('conn.provider', '=', provider),
        ),
      );
    }
    const [page, total] = await Promise.all([
      q
        .select('c.id')
        .orderBy('c.created_at', 'asc')
        // Names are unique: configs made in the same millisecond still list in a stable, readable order.
        .orderBy('c.name', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const details = await this.details(page.map((r) => r.id));
    return { rows: page.flatMap((r) => details.get(r.id) ?? []), total: Number(total.n) };
  }
}
