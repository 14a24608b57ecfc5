import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { McpConfigAccessTable } from './tables.js';

/** The ways a config's tools may be reached, and how its OAuth sign-in goes. */
export interface ConfigAccess {
  /** MCP clients may sign users in with OAuth at the config URL. */
  oauthEnabled: boolean;
  /** Instance URLs (/mcp/i/…) of the config work. */
  instanceUrlsEnabled: boolean;
  /** Session tokens minted by the app's backend work at the config URL. */
  sessionTokensEnabled: boolean;
  /** The app's login page for the hand-off (this config's, else the server's). */
  loginUrl: string | undefined;
  /** The client gets its code only once every mapped connection is ACTIVE for the user. */
  requireActiveAccounts: boolean;
  /** Who the user is: the app says so after its login page, or the app's OpenID Connect issuer does. */
  loginMode: LoginMode;
}

export type LoginMode = 'app' | 'oidc';

type AccessRow = Omit<McpConfigAccessTable, 'updated_at'>;

export interface ConfigAccessUpdate {
  oauthEnabled?: boolean | null;
  instanceUrlsEnabled?: boolean;
  sessionTokensEnabled?: boolean;
  loginUrl?: string | null;
  requireActiveAccounts?: boolean;
  loginMode?: LoginMode | null;
}

const MAX_CACHED = 10_000;

/**
 * The shape of every config id (`newId('cfg')`: 120 random bits in 24 base32 characters).
 * The config URL is open to strangers, so anything else is refused before it costs a query
 * or a cache entry (a 16 KB id looped made one 16 KB entry per request).
 */
const CONFIG_ID = /^cfg_[a-z2-7]{24}$/;

/** Whether `id` could name a config at all; false means no config has it. */
export function mayBeConfigId(id: string): boolean {
  return CONFIG_ID.test(id);
}

/** Per-config access settings, read on every MCP request, so cached until an `mcp` change. */
export class McpConfigAccess {
  private readonly cache: ScopedCache<string, ConfigAccess>;

  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock; config: Config; changes: ChangeFeed }) {
    this.cache = deps.changes.cache(['mcp'], MAX_CACHED, { name: 'mcp_config_access' });
  }

  /**
   * The config's settings; for an id no config has, the server's defaults, which are not
   * cached: unknown ids come from strangers (one per request if they like), and a cache of
   * them would push the real configs out.
   */
  async get(configId: string): Promise<ConfigAccess> {
    if (!mayBeConfigId(configId)) return this.accessOf(undefined);
    await this.deps.changes.sync();
    const cached = this.cache.get(configId);
    if (cached) return cached;
    const generation = this.cache.generation;
    const found = await this.deps.db
      .selectFrom('mcp_configs')
      .leftJoin('mcp_config_access', 'mcp_config_access.config_id', 'mcp_configs.id')
      .select([
        'mcp_config_access.config_id',
        'mcp_config_access.oauth_enabled',
        'mcp_config_access.instance_urls_enabled',
        'mcp_config_access.session_tokens_enabled',
        'mcp_config_access.login_url',
        'mcp_config_access.require_active_accounts',
        'mcp_config_access.login_mode',
      ])
      .where('mcp_configs.id', '=', configId)
      .executeTakeFirst();
    if (!found) return this.accessOf(undefined);
    // A config without an access row (config_id null from the outer join) follows the server's defaults.
    const access = this.accessOf(found.config_id === null ? undefined : (found as AccessRow));
    this.cache.set(configId, access, generation);
    return access;
  }

  private accessOf(row: AccessRow | undefined): ConfigAccess {
    const defaults = this.deps.config.mcpOAuth;
    return {
      oauthEnabled: row?.oauth_enabled == null ? defaults.enabled : row.oauth_enabled === 1,
      instanceUrlsEnabled: row ? row.instance_urls_enabled === 1 : true,
      sessionTokensEnabled: row ? row.session_tokens_enabled === 1 : true,
      loginUrl: row?.login_url ?? defaults.loginUrl,
      requireActiveAccounts: row ? row.require_active_accounts === 1 : true,
      // Unless the config says: its own login page wins, then the server's OIDC issuer, then the server's login page.
      loginMode:
        (row?.login_mode as LoginMode | null | undefined) ?? (row?.login_url ? 'app' : defaults.oidc ? 'oidc' : 'app'),
    };
  }

  async update(configId: string, update: ConfigAccessUpdate): Promise<ConfigAccess> {
    const exists = await this.deps.db
      .selectFrom('mcp_configs')
      .select('id')
      .where('id', '=', configId)
      .executeTakeFirst();
    if (!exists) throw new AppError('not_found', `no MCP config ${configId}`);
    const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? 1 : 0);
    const changes = {
      ...(update.oauthEnabled !== undefined
        ? { oauth_enabled: update.oauthEnabled === null ? null : update.oauthEnabled ? 1 : 0 }
        : {}),
      ...(update.instanceUrlsEnabled !== undefined
        ? { instance_urls_enabled: flag(update.instanceUrlsEnabled) as number }
        : {}),
      ...(update.sessionTokensEnabled !== undefined
        ? { session_tokens_enabled: flag(update.sessionTokensEnabled) as number }
        : {}),
      ...(update.loginUrl !== undefined ? { login_url: update.loginUrl } : {}),
      ...(update.loginMode !== undefined ? { login_mode: update.loginMode } : {}),
      ...(update.requireActiveAccounts !== undefined
        ? { require_active_accounts: flag(update.requireActiveAccounts) as number }
        : {}),
      updated_at: new Date(this.deps.clock.now()).toISOString(),
    };
    await this.deps.changes.write(['mcp'], (trx) =>
      trx
        .insertInto('mcp_config_access')
        .values({
          config_id: configId,
          oauth_enabled: null,
          instance_urls_enabled: 1,
          session_tokens_enabled: 1,
          login_url: null,
          require_active_accounts: 1,
          login_mode: null,
          ...changes,
        })
        .onConflict((oc) => oc.column('config_id').doUpdateSet(changes))
        .execute(),
    );
    return this.get(configId);
  }
}
