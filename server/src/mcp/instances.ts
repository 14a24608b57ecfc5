import type { McpInstance } from '@switchboard/sdk';
import type { Kysely, Selectable } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { isUniqueViolation } from '../connections/connections.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { hashSecret, newId, newSecret } from '../crypto/random.js';
import type { Database, McpInstancesTable } from '../db/schema.js';
import type { UsageMarks } from '../db/usage-marks.js';
import { AppError } from '../errors.js';
import { type ConfigDetail, configToApi, type McpConfigs, startsWith } from './configs.js';

export type InstanceRow = Selectable<McpInstancesTable>;

/** The name an instance gets when ensure-instance names none. */
export const DEFAULT_INSTANCE_NAME = 'default';

const secretContext = ENCRYPTED_COLUMNS.instanceUrlSecret.context;

export function instanceUrl(publicUrl: string, secret: string): string {
  return `${publicUrl}/mcp/i/${secret}`;
}

export interface InstanceListFilter {
  id?: string;
  name?: string;
  configName?: string;
  userIdentifier?: string;
  search?: string;
  limit: number;
  offset: number;
}

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  encryptor: Encryptor;
  configs: McpConfigs;
  changes: ChangeFeed;
  usage: UsageMarks;
}

/**
 * Per-user MCP instances. The URL is a capability: its 256-bit secret is stored only as a
 * SHA-256 digest (for lookup) and as ciphertext (so the API can show the URL again).
 */
export class McpInstances {
  constructor(private readonly deps: Deps) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private sealSecret(id: string) {
    const secret = newSecret();
    const sealed = this.deps.encryptor.encrypt(secret, secretContext(id));
    return { url_secret_hash: hashSecret(secret), url_secret_enc: sealed.ciphertext, key_id: sealed.keyId };
  }

  url(row: InstanceRow): string {
    const secret = this.deps.encryptor.decrypt(row.url_secret_enc, row.key_id, secretContext(row.id));
    return instanceUrl(this.deps.config.publicUrl, secret);
  }

  /**
   * The API's view of an instance. `withUrl` says whether the caller may hold the URL: it runs
   * the config's tools as the user (write tools included), so only admin callers get it; for
   * the others it is omitted, as protobuf JSON omits an empty string.
   */
  toApi(row: InstanceRow, config: ConfigDetail, withUrl: boolean): McpInstance {
    return {
      id: row.id,
      name: row.name,
      user_identifier: row.user_identifier,
      config: configToApi(config, this.deps.config.publicUrl),
      // Omitted until first use, as protobuf JSON omits an unset timestamp.
      ...(row.last_used_at ? { last_used_at: row.last_used_at } : {}),
      updated_at: row.updated_at,
      ...(withUrl ? { url: this.url(row) } : {}),
    };
  }

  private find(configId: string, userIdentifier: string, name: string) {
    return this.deps.db
      .selectFrom('mcp_instances')
      .selectAll()
      .where('config_id', '=', configId)
      .where('user_identifier', '=', userIdentifier)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  private findByConfigName(configName: string, userIdentifier: string, name: string) {
    return this.deps.db
      .selectFrom('mcp_instances as i')
      .innerJoin('mcp_configs as c', 'c.id', 'i.config_id')
      .selectAll('i')
      .where('c.name', '=', configName)
      .where('i.user_identifier', '=', userIdentifier)
      .where('i.name', '=', name)
      .executeTakeFirst();
  }

  /**
   * The instance for (config, user, name), created when missing. Concurrent callers race on
   * the unique (config_id, user_identifier, name) constraint; the losers read the winner's row.
   */
  async ensure(input: { configName: string; userIdentifier: string; name?: string }) {
    const name = input.name ?? DEFAULT_INSTANCE_NAME;
    // The config and an existing instance are read at once (the instance by config name), so
    // the common case, an instance that exists, costs one round trip to the database.
    const [config, existing] = await Promise.all([
      this.deps.configs.getByName(input.configName),
      this.findByConfigName(input.configName.toLowerCase(), input.userIdentifier, name),
    ]);
    if (existing && existing.config_id === config.id) return { row: existing, config, created: false };
    const id = newId('inst');
    const now = this.now();
    const row: InstanceRow = {
      id,
      config_id: config.id,
      user_identifier: input.userIdentifier,
      name,
      ...this.sealSecret(id),
      last_used_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.insertInto('mcp_instances').values(row).execute();
      return { row, config, created: true };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const raced = await this.find(config.id, input.userIdentifier, name);
      if (!raced) throw error;
      return { row: raced, config, created: false };
    }
  }

  async get(id: string): Promise<{ row: InstanceRow; config: ConfigDetail }> {
    await this.deps.usage.flush();
    const row = await this.deps.db.selectFrom('mcp_instances').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', `MCP instance ${id} not found`);
    return { row, config: await this.deps.configs.get(row.config_id) };
  }

  async list(filter: InstanceListFilter) {
    await this.deps.usage.flush();
    let q = this.deps.db.selectFrom('mcp_instances as i').innerJoin('mcp_configs as c', 'c.id', 'i.config_id');
    if (filter.id) q = q.where('i.id', '=', filter.id);
    if (filter.name) q = q.where('i.name', '=', filter.name);
    if (filter.configName) q = q.where('c.name', '=', filter.configName.toLowerCase());
    if (filter.userIdentifier) q = q.where('i.user_identifier', '=', filter.userIdentifier);
    if (filter.search) {
      const text = filter.search;
      q = q.where((eb) => eb.or([startsWith('i.name', text), startsWith('i.user_identifier', text)]));
    }
    const [rows, total] = await Promise.all([
      q
        .selectAll('i')
        .orderBy('i.created_at', 'asc')
        .orderBy('i.id', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const configs = await this.deps.configs.details(rows.map((r) => r.config_id));
    return {
      rows: rows.flatMap((row) => {
        const config = configs.get(row.config_id);
        return config ? [{ row, config }] : [];
      }),
      total: Number(total.n),
    };
  }

  async update(id: string, patch: { name?: string; configName?: string }) {
    const { row, config: current } = await this.get(id);
    const config = patch.configName ? await this.deps.configs.getByName(patch.configName) : current;
    const values = { name: patch.name ?? row.name, config_id: config.id, updated_at: this.now() };
    try {
      await this.deps.changes.write(['mcp'], (trx) =>
        trx.updateTable('mcp_instances').set(values).where('id', '=', id).execute(),
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError(
          'already_exists',
          `${row.user_identifier} already has an instance named ${values.name} of config ${config.name}`,
        );
      }
      throw error;
    }
    return { row: { ...row, ...values }, config };
  }

  async delete(id: string): Promise<void> {
    await this.deps.changes.write(['mcp'], async (trx) => {
      const result = await trx.deleteFrom('mcp_instances').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new AppError('not_found', `MCP instance ${id} not found`);
    });
  }

  /** A new URL secret; the old URL stops working with this write. */
  async rotateUrl(id: string) {
    const { row, config } = await this.get(id);
    const values = { ...this.sealSecret(id), updated_at: this.now() };
    await this.deps.changes.write(['mcp'], (trx) =>
      trx.updateTable('mcp_instances').set(values).where('id', '=', id).execute(),
    );
    return { row: { ...row, ...values }, config };
  }
}
