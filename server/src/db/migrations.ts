import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';

/**
 * Migrations, in order. Written once with Kysely's schema builder so the same code runs on
 * SQLite and PostgreSQL. Never edit a migration that has shipped; add the next one.
 * A migration only adds (tables, columns, indexes, settings), so older builds keep working on
 * the schema it leaves. One that removes or changes what an older build reads ends its name in
 * `_breaking`: an older build then refuses the database (see migrateToLatest).
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('api_clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().unique())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('private_jwk_enc', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('oauth_client_id', 'text', (c) => c.notNull())
        .addColumn('oauth_client_secret_enc', 'text')
        .addColumn('key_id', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('connected_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('tokens_enc', 'text')
        .addColumn('key_id', 'text')
        .addColumn('token_expires_at', 'text')
        .addColumn('granted_scopes', 'text', (c) => c.notNull())
        .addColumn('provider_account', 'text')
        .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_used_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('connected_accounts_connection_identifier', ['connection_id', 'identifier'])
        .execute();
      await db.schema
        .createIndex('connected_accounts_identifier')
        .on('connected_accounts')
        .column('identifier')
        .execute();

      await db.schema
        .createTable('auth_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('connected_account_id', 'text', (c) =>
          c.notNull().references('connected_accounts.id').onDelete('cascade'),
        )
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('auth_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('state_hash', 'text', (c) => c.notNull().unique())
        .addColumn('connected_account_id', 'text', (c) =>
          c.notNull().references('connected_accounts.id').onDelete('cascade'),
        )
        .addColumn('code_verifier_enc', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('mcp_configs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('mcp_config_mappings')
        .addColumn('config_id', 'text', (c) => c.notNull().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('tools', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mcp_config_mappings_pk', ['config_id', 'connection_id'])
        .execute();

      await db.schema
        .createTable('mcp_instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('config_id', 'text', (c) => c.notNull().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('user_identifier', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url_secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('url_secret_enc', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('mcp_instances_config_user_name', ['config_id', 'user_identifier', 'name'])
        .execute();
      await db.schema
        .createIndex('mcp_instances_user_identifier')
        .on('mcp_instances')
        .column('user_identifier')
        .execute();

      await db.schema
        .createTable('tool_call_logs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('execution_id', 'text', (c) => c.notNull())
        .addColumn('tool_name', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('connection_id', 'text')
        .addColumn('connection_name', 'text')
        .addColumn('connected_account_id', 'text')
        .addColumn('identifier', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tool_call_logs_created_at').on('tool_call_logs').column('created_at').execute();

      await db.schema
        .createTable('change_versions')
        .addColumn('scope', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0002_dashboard_sessions': {
    async up(db: Kysely<unknown>) {
      // Dashboard sign-ins, server-side so logout and client revocation end them at once.
      await db.schema
        .createTable('dashboard_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('api_client_id', 'text', (c) => c.notNull().references('api_clients.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005_call_log_details': {
    async up(db: Kysely<unknown>) {
      // What a failed call said (redacted) and what it was asked (a redacted, capped summary).
      await db.schema.alterTable('tool_call_logs').addColumn('error_message', 'text').execute();
      await db.schema.alterTable('tool_call_logs').addColumn('argument_summary', 'text').execute();
      // Scopes a link asks for besides its connection's (its config's tools need them), as JSON.
      await db.schema.alterTable('auth_links').addColumn('extra_scopes', 'text').execute();
    },
  },
  '0004_client_revocation': {
    async up(db: Kysely<unknown>) {
      // What a management client may do, and a counter that a secret rotation bumps so the
      // access tokens issued before it stop working. Existing clients keep full access.
      await db.schema
        .alterTable('api_clients')
        .addColumn('scope', 'text', (c) => c.notNull().defaultTo('admin'))
        .execute();
      await db.schema
        .alterTable('api_clients')
        .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // MCP session tokens of (config, identifier) issued before not_before are dead.
      await db.schema
        .createTable('mcp_session_revocations')
        .addColumn('config_id', 'text', (c) => c.notNull().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mcp_session_revocations_pk', ['config_id', 'identifier'])
        .execute();
    },
  },
  '0003_connect_trust': {
    async up(db: Kysely<unknown>) {
      // User verification, single-use links, a bound provider identity and the account history.
      await db.schema.alterTable('connections').addColumn('user_verify_url', 'text').execute();
      await db.schema.alterTable('connected_accounts').addColumn('provider_subject', 'text').execute();
      await db.schema.alterTable('auth_links').addColumn('used_at', 'text').execute();
      await db.schema.alterTable('auth_links').addColumn('revoked_at', 'text').execute();
      await db.schema.alterTable('auth_links').addColumn('user_verify_url', 'text').execute();
      await db.schema.alterTable('auth_links').addColumn('verify_state', 'text').execute();
      await db.schema.alterTable('auth_requests').addColumn('auth_link_id', 'text').execute();
      await db.schema
        .createIndex('auth_links_connected_account')
        .on('auth_links')
        .column('connected_account_id')
        .execute();

      await db.schema
        .createTable('user_verifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_hash', 'text', (c) => c.notNull().unique())
        .addColumn('connected_account_id', 'text', (c) =>
          c.notNull().references('connected_accounts.id').onDelete('cascade'),
        )
        .addColumn('provider_subject', 'text')
        .addColumn('provider_account', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('user_verifications_connected_account')
        .on('user_verifications')
        .column('connected_account_id')
        .execute();

      // No foreign key: the history of a deleted account stays.
      await db.schema
        .createTable('account_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connected_account_id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text')
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('account_events_account_created')
        .on('account_events')
        .columns(['connected_account_id', 'created_at'])
        .execute();
    },
  },
  '0006_mcp_oauth': {
    async up(db: Kysely<unknown>) {
      // Switchboard as the OAuth authorization server of its config URLs (mcp-auth/).
      // How each config may be reached; a config without a row follows the server's defaults.
      await db.schema
        .createTable('mcp_config_access')
        .addColumn('config_id', 'text', (c) => c.primaryKey().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('oauth_enabled', 'integer')
        .addColumn('instance_urls_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('session_tokens_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('login_url', 'text')
        .addColumn('require_active_accounts', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // Dynamically registered clients (RFC 7591); metadata-document clients are not stored.
      await db.schema
        .createTable('mcp_oauth_clients')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('client_name', 'text', (c) => c.notNull())
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('logo_uri', 'text')
        .addColumn('client_uri', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // An authorize request while the user signs in and consents; single use, short-lived.
      await db.schema
        .createTable('mcp_oauth_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('handoff_hash', 'text', (c) => c.notNull().unique())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_name', 'text', (c) => c.notNull())
        .addColumn('client_logo', 'text')
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('config_id', 'text', (c) => c.notNull().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('scope', 'text')
        .addColumn('state', 'text')
        .addColumn('identifier', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // What a user granted a client at a config; revoking it ends its refresh and access tokens.
      await db.schema
        .createTable('mcp_oauth_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_name', 'text', (c) => c.notNull())
        .addColumn('client_logo', 'text')
        .addColumn('config_id', 'text', (c) => c.notNull().references('mcp_configs.id').onDelete('cascade'))
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('scope', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .execute();
      await db.schema
        .createIndex('mcp_oauth_grants_identifier')
        .on('mcp_oauth_grants')
        .columns(['identifier', 'config_id'])
        .execute();
      await db.schema
        .createTable('mcp_oauth_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('mcp_oauth_grants.id').onDelete('cascade'))
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      // Every refresh token of a grant stays (spent ones too), so a replayed one is recognised.
      await db.schema
        .createTable('mcp_oauth_refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('mcp_oauth_grants.id').onDelete('cascade'))
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mcp_oauth_refresh_tokens_grant')
        .on('mcp_oauth_refresh_tokens')
        .column('grant_id')
        .execute();
    },
  },
  '0007_tool_call_attempts': {
    async up(db: Kysely<unknown>) {
      // Retries show as such: the Python SDK repeats every failed gRPC call twice.
      await db.schema
        .alterTable('tool_call_logs')
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
    },
  },
  '0008_mcp_oauth_oidc': {
    async up(db: Kysely<unknown>) {
      // How a config's users sign in (the app's login page, or its OpenID Connect issuer), and
      // the upstream sign-in of an authorize request: its state, nonce and PKCE verifier.
      await db.schema.alterTable('mcp_config_access').addColumn('login_mode', 'text').execute();
      await db.schema.alterTable('mcp_oauth_requests').addColumn('upstream_state_hash', 'text').execute();
      await db.schema.alterTable('mcp_oauth_requests').addColumn('upstream_nonce', 'text').execute();
      await db.schema.alterTable('mcp_oauth_requests').addColumn('upstream_verifier_enc', 'text').execute();
      await db.schema.alterTable('mcp_oauth_requests').addColumn('key_id', 'text').execute();
      await db.schema
        .createIndex('mcp_oauth_requests_upstream_state')
        .on('mcp_oauth_requests')
        .column('upstream_state_hash')
        .execute();
    },
  },
  '0009_prune_indexes': {
    async up(db: Kysely<unknown>) {
      // The retention job deletes by expiry in batches; without these each batch scans the table.
      for (const table of ['auth_links', 'auth_requests', 'user_verifications']) {
        await db.schema.createIndex(`${table}_expires_at`).on(table).column('expires_at').execute();
      }
    },
  },
  '0010_account_events_created_at': {
    async up(db: Kysely<unknown>) {
      // The retention job deletes account history by age; the (account, created_at) index cannot find old rows.
      await db.schema.createIndex('account_events_created_at').on('account_events').column('created_at').execute();
    },
  },
  '0011_room_for_usage_marks': {
    async up(db: Kysely<unknown>) {
      // Postgres: an UPDATE writes a new version of the row. Where its page has room and no
      // indexed column changed, the version stays on that page and no index gets an entry (a
      // HOT update); a full page sends it to another page and adds an entry to every index.
      // last_used_at moves about once a minute per row in use (and tokens at each refresh), so
      // these tables leave a fifth of each page free. Takes a lock that blocks no reads or
      // writes, and applies to pages written from now on. SQLite rewrites a row in its page.
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      for (const table of ['mcp_instances', 'connected_accounts', 'mcp_oauth_grants']) {
        await sql`alter table ${sql.table(table)} set (fillfactor = 80)`.execute(db);
      }
    },
  },
  '0012_mcp_oauth_consent_secret': {
    async up(db: Kysely<unknown>) {
      // The MCP sign-in's identity step hands out a secret for the consent page, which needs it
      // besides the cookie of the browser that started the sign-in (mcp-auth/authorization-server.ts).
      await db.schema.alterTable('mcp_oauth_requests').addColumn('consent_hash', 'text').execute();
    },
  },
  '0013_held_verification_grants': {
    async up(db: Kysely<unknown>) {
      // A consent waiting for the app's user verification keeps its grant here, sealed, rather
      // than on the account: a working account stays on its own grant until the app confirms.
      await db.schema.alterTable('user_verifications').addColumn('tokens_enc', 'text').execute();
      await db.schema.alterTable('user_verifications').addColumn('key_id', 'text').execute();
      // Every read of accounts drops the held grants that ran out: this finds them without
      // reading the verifications whose grant is already gone.
      await db.schema
        .createIndex('user_verifications_held_expires_at')
        .on('user_verifications')
        .column('expires_at')
        .where(sql<boolean>`tokens_enc is not null`)
        .execute();
    },
  },
  '0014_session_revocation_generations': {
    async up(db: Kysely<unknown>) {
      // A revocation counts up instead of only stamping the revoking replica's clock, and a
      // session token carries the count it was minted at: two replicas' clocks are never
      // compared. A pair revoked before this (once at least) stands at 1, so the tokens
      // minted from now on, which carry its count, are told apart from those it ended.
      await db.schema
        .alterTable('mcp_session_revocations')
        .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await (db as Kysely<{ mcp_session_revocations: { generation: number } }>)
        .updateTable('mcp_session_revocations')
        .set({ generation: 1 })
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** How an older build recognises a newer migration it cannot run on (see the list above). */
const BREAKING = /_breaking$/;

/**
 * Brings the schema up to date. Safe to run at every start and from several processes.
 * Resolves with the migrations the database has run that this build does not know: a newer
 * build ran them (a rolling upgrade under way, or a rollback). Migrations add, so a build
 * whose own migrations have all run works on that schema, as the replicas still on the old
 * version do during the upgrade. Refused: a database where a newer build ran a `_breaking`
 * migration, and one that lacks one of this build's migrations while holding unknown ones
 * (it came from another line of builds).
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  options: { schema?: string } = {},
): Promise<{ newer: string[] }> {
  // Kysely looks for its bookkeeping tables in any schema; naming ours keeps a database with
  // several Switchboard schemas (tests, tenants) from seeing each other's.
  const migrator = new Migrator({ db, provider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
  const known = await migrator.getMigrations();
  // 0001 comes first in every build: a database that ran none has no bookkeeping table yet.
  if (known.some((migration) => migration.executedAt)) {
    const scoped = options.schema ? db.withSchema(options.schema) : db;
    const executed = await (scoped as Kysely<{ kysely_migration: { name: string } }>)
      .selectFrom('kysely_migration')
      .select('name')
      .execute();
    const newer = executed.map((row) => row.name).filter((name) => !Object.hasOwn(migrations, name));
    const breaking = newer.filter((name) => BREAKING.test(name));
    if (breaking.length) {
      throw new Error(
        `a newer Switchboard build has changed this database in a way this build cannot run on (${breaking.join(', ')}). ` +
          'Run that build or a newer one, or restore the backup taken before the upgrade.',
      );
    }
    if (newer.length) {
      const missing = known.filter((migration) => !migration.executedAt).map((migration) => migration.name);
      if (missing.length) {
        throw new Error(
          `the database was migrated by another Switchboard build: it has ${newer.join(', ')}, which this build does not know, ` +
            `but not ${missing.join(', ')}, which this build needs. Run the build that migrated it, or a newer one.`,
        );
      }
      return { newer };
    }
  }
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { newer: [] };
}

/** The migrations this build has that the database has not run yet (for /readyz). */
export async function pendingMigrations(db: Kysely<unknown>, options: { schema?: string } = {}): Promise<string[]> {
  const migrator = new Migrator({ db, provider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
  return (await migrator.getMigrations())
    .filter((migration) => !migration.executedAt)
    .map((migration) => migration.name);
}
