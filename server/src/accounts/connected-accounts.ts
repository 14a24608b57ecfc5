import type { ConnectedAccount } from '@switchboard/sdk';
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import { type ConnectionRow, type Connections, isUniqueViolation } from '../connections/connections.js';
import type { AccountRow, TokenVault } from '../connections/token-vault.js';
import { newId } from '../crypto/random.js';
import { BatchedLookup } from '../db/batched-lookup.js';
import { compiledPerCount } from '../db/compiled-per-count.js';
import type { Database, UserVerificationsTable } from '../db/schema.js';
import type { UsageMarks } from '../db/usage-marks.js';
import { AppError } from '../errors.js';
import type { OAuthClient, TokenSet } from '../oauth/client.js';
import type { AccountEvents } from './account-events.js';

export const ACCOUNT_STATUSES = ['ACTIVE', 'EXPIRED', 'PENDING_AUTH', 'PENDING_VERIFICATION', 'DISCONNECTED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** What became of the grant at the provider when an account was disconnected or deleted. */
export type Revocation = 'revoked' | 'failed' | 'none';

/** Identifies an account either by id or by (connection name, identifier), as the reference API does. */
export type AccountRef = { id: string } | { connector: string; identifier: string };

/** The wire shape of a connected account (reference: connected_accountsConnectedAccount). Never carries tokens. */
export function accountToApi(
  row: AccountRow,
  connection: Pick<ConnectionRow, 'id' | 'name' | 'provider'>,
  // The status column is typed string until every writer writes a literal status; then this is ConnectedAccount.
): Omit<ConnectedAccount, 'status'> & Pick<AccountRow, 'status'> {
  return {
    id: row.id,
    identifier: row.identifier,
    connector: connection.name,
    connection_id: connection.id,
    provider: connection.provider,
    status: row.status,
    authorization_type: 'OAUTH',
    authorization_details: {
      oauth_token: { scopes: JSON.parse(row.granted_scopes) as string[], domain: row.provider_account ?? '' },
    },
    // Unset timestamps are omitted, as protobuf JSON does, never sent as ''.
    ...(row.token_expires_at ? { token_expires_at: row.token_expires_at } : {}),
    ...(row.last_used_at ? { last_used_at: row.last_used_at } : {}),
    updated_at: row.updated_at,
  };
}

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  oauth: OAuthClient;
  vault: TokenVault;
  changes: ChangeFeed;
  usage: UsageMarks;
  connections: Connections;
  events: AccountEvents;
  /** Database statements are traced: the batched lookups are then compiled for each query. */
  config?: { tracing: { enabled: boolean } };
}

/** What the provider said about who consented (oauth/client.ts accountIdentity). */
export interface ProviderIdentity {
  account?: string;
  subject?: string;
}

/** Accounts kept for tool calls per process; beyond this the oldest go first. */
const MAX_CACHED_ACCOUNTS = 50_000;

/** Connections kept for tool calls per process (by name and by id). */
const MAX_CACHED_CONNECTIONS = 2_000;

/** Accounts per cold tool-call lookup query at most. */
const ACCOUNTS_PER_LOOKUP = 32;

/** A batched lookup's key for (connection, identifier): ids never hold the separator, so the first one splits it. */
const pairKey = (connectionId: string, identifier: string) => `${connectionId}\u0000${identifier}`;
const pairOf = (key: string): [string, string] => {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
};

type FoundAccount = {
  account: AccountRow;
  connection: ConnectionRow;
  /** True when the rows were read from the database for this call rather than served from the cache. */
  fresh?: boolean;
};

/** Connected accounts: one per (connection, identifier); the connect flow that activates them is connect-flow.ts. */
export class ConnectedAccounts {
  /** Account + connection rows for tool calls, emptied on any status or connection change. */
  private readonly forCalls: ScopedCache<string, FoundAccount>;
  /**
   * The connections tool calls name, for a cold call's account lookup: emptied with the
   * accounts above (a connection write bumps both scopes), so a row here is never older than
   * a row there. Names nobody has are not kept.
   */
  private readonly connectionsForCalls: ScopedCache<string, ConnectionRow>;
  private readonly connectionReads = new Map<string, { generation: number; row: Promise<ConnectionRow | undefined> }>();
  /**
   * The cold lookups behind `findForCall` (REST, gRPC and the proxy name an account per call):
   * the first calls of users that arrive in the same turn share one query (db/batched-lookup.ts).
   */
  readonly byPair: BatchedLookup<AccountRow>;
  readonly byId: BatchedLookup<AccountRow>;
  constructor(private readonly deps: Deps) {
    this.forCalls = deps.changes.cache(['accounts', 'mcp'], MAX_CACHED_ACCOUNTS, { name: 'accounts_for_calls' });
    this.connectionsForCalls = deps.changes.cache(['accounts', 'mcp'], MAX_CACHED_CONNECTIONS, {
      name: 'connections_for_calls',
    });
    const traced = deps.config?.tracing.enabled === true;
    // One (connection, identifier) term per key, each a probe of the pair's unique index on
    // both engines: SQLite reads `(a, b) in (…)` only from a subquery.
    const pairQuery = compiledPerCount(
      deps.db,
      (values) =>
        deps.db
          .selectFrom('connected_accounts')
          .selectAll()
          .where(({ and, eb, or }) =>
            or(
              Array.from({ length: values.length / 2 }, (_, i) =>
                and([eb('connection_id', '=', values[2 * i] ?? ''), eb('identifier', '=', values[2 * i + 1] ?? '')]),
              ),
            ),
          )
          .compile(),
      { width: 2, traced },
    );
    this.byPair = new BatchedLookup(
      (keys) => pairQuery(keys.flatMap(pairOf)),
      (row) => pairKey(row.connection_id, row.identifier),
      ACCOUNTS_PER_LOOKUP,
    );
    this.byId = new BatchedLookup(
      compiledPerCount(
        deps.db,
        (ids) => deps.db.selectFrom('connected_accounts').selectAll().where('id', 'in', ids).compile(),
        { width: 1, traced },
      ),
      (row) => row.id,
      ACCOUNTS_PER_LOOKUP,
    );
  }

  /**
   * `find` for the tool-call path, served from a cache that every replica empties when an
   * account is created active, re-consented, disconnected, expired or deleted, or its
   * connection changes. Its token fields may be older than the row: the vault checks them.
   */
  /** The tool-call cache's generation: read before a query whose rows go to `prime`. */
  get prefetchGeneration(): number {
    return this.forCalls.generation;
  }

  /**
   * Keeps an account read by another query (the MCP instance lookup reads the user's accounts
   * with the instance) for the calls that follow, unless a write overtook that query.
   */
  prime(found: { account: AccountRow; connection: ConnectionRow }, generation: number): void {
    const key = `name\u0000${found.connection.name}\u0000${found.account.identifier}`;
    this.forCalls.set(key, { account: found.account, connection: found.connection }, generation);
  }

  async findForCall(ref: AccountRef): Promise<FoundAccount | undefined> {
    await this.deps.changes.sync();
    const key = 'id' in ref ? `id\u0000${ref.id}` : `name\u0000${ref.connector}\u0000${ref.identifier}`;
    const cached = this.forCalls.get(key);
    if (cached) return cached;
    const generation = this.forCalls.generation;
    const found = await this.findBatched(ref);
    if (!found) return undefined;
    this.forCalls.set(key, found, generation);
    return { ...found, fresh: true };
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * `find` for a cold tool call: the connection from its cache, the account through a batched
   * lookup, so the first calls of users that come together cost one query between them.
   */
  private async findBatched(ref: AccountRef): Promise<{ account: AccountRow; connection: ConnectionRow } | undefined> {
    if ('id' in ref) {
      const [account] = await this.byId.load(ref.id);
      if (!account) return undefined;
      const connection = await this.connectionForCall(`id\u0000${account.connection_id}`, () =>
        this.deps.connections.get(account.connection_id),
      );
      return connection && { account, connection };
    }
    const connection = await this.connectionForCall(`name\u0000${ref.connector}`, () =>
      this.deps.connections.findByName(ref.connector),
    );
    if (!connection) return undefined;
    const [account] = await this.byPair.load(pairKey(connection.id, ref.identifier));
    return account ? { account, connection } : undefined;
  }

  /**
   * A connection row for tool calls: cached, else read once however many cold calls ask
   * together. A call joins only a read begun since the cache was last emptied, so no call
   * gets a row read before a change it came after.
   */
  private async connectionForCall(
    key: string,
    read: () => Promise<ConnectionRow | undefined>,
  ): Promise<ConnectionRow | undefined> {
    const cached = this.connectionsForCalls.get(key);
    if (cached) return cached;
    const generation = this.connectionsForCalls.generation;
    const joined = this.connectionReads.get(key);
    if (joined?.generation === generation) return joined.row;
    const row = read().then((found) => {
      if (found) this.connectionsForCalls.set(key, found, generation);
      return found;
    });
    const reading = { generation, row };
    this.connectionReads.set(key, reading);
    const forget = () => {
      if (this.connectionReads.get(key) === reading) this.connectionReads.delete(key);
    };
    row.then(forget, forget);
    return row;
  }

  async find(ref: AccountRef): Promise<{ account: AccountRow; connection: ConnectionRow } | undefined> {
    if ('id' in ref) {
      const account = await this.deps.db
        .selectFrom('connected_accounts')
        .selectAll()
        .where('id', '=', ref.id)
        .executeTakeFirst();
      if (!account) return undefined;
      return { account, connection: await this.deps.connections.get(account.connection_id) };
    }
    const connection = await this.deps.connections.findByName(ref.connector);
    if (!connection) return undefined;
    const account = await this.deps.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('connection_id', '=', connection.id)
      .where('identifier', '=', ref.identifier)
      .executeTakeFirst();
    return account ? { account, connection } : undefined;
  }

  async get(ref: AccountRef) {
    await this.deps.usage.flush();
    await this.expireUnverified();
    const found = await this.find(ref);
    if (!found) {
      const what = 'id' in ref ? ref.id : `${ref.connector} / ${ref.identifier}`;
      throw new AppError('not_found', `connected account ${what} not found`);
    }
    return found;
  }

  /** The account for (connection, identifier), created as PENDING_AUTH when missing. Race-safe. */
  async ensure(
    connectionName: string,
    identifier: string,
  ): Promise<{ account: AccountRow; connection: ConnectionRow }> {
    const connection = await this.deps.connections.getByName(connectionName);
    return this.ensureFor(connection, identifier);
  }

  async ensureFor(connection: ConnectionRow, identifier: string) {
    const existing = await this.deps.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('connection_id', '=', connection.id)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    if (existing) return { account: existing, connection };
    try {
      return { account: await this.insert(connection, identifier), connection };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const raced = await this.find({ connector: connection.name, identifier });
      if (!raced) throw error;
      return raced;
    }
  }

  private async insert(connection: ConnectionRow, identifier: string, tokens?: TokenSet): Promise<AccountRow> {
    const id = newId('ca');
    const now = this.now();
    const row: AccountRow = {
      id,
      connection_id: connection.id,
      identifier,
      status: tokens ? 'ACTIVE' : 'PENDING_AUTH',
      status_reason: null,
      tokens_enc: null,
      key_id: null,
      token_expires_at: null,
      granted_scopes: JSON.stringify(tokens?.scopes ?? []),
      provider_account: null,
      provider_subject: null,
      token_version: 0,
      last_used_at: null,
      created_at: now,
      updated_at: now,
      ...(tokens ? this.deps.vault.sealTokens(id, tokens) : {}),
    };
    await this.deps.db.insertInto('connected_accounts').values(row).execute();
    return row;
  }

  /** Creates an account, ACTIVE when the caller brings tokens (reference: CreateConnectedAccount). */
  async create(connectionName: string, identifier: string, tokens?: TokenSet) {
    const connection = await this.deps.connections.getByName(connectionName);
    try {
      return { account: await this.insert(connection, identifier, tokens), connection };
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError(
          'already_exists',
          `a connected account for ${connectionName} / ${identifier} already exists`,
        );
      }
      throw error;
    }
  }

  /** How many accounts are in each status (one grouped count, for /metrics). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.deps.db
      .selectFrom('connected_accounts')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  async list(filter: {
    connectionNames?: string[];
    identifier?: string;
    provider?: string;
    status?: string;
    query?: string;
    connectionId?: string;
    limit: number;
    offset: number;
  }) {
    await this.deps.usage.flush();
    await this.expireUnverified();
    let q = this.deps.db.selectFrom('connected_accounts as a').innerJoin('connections as c', 'c.id', 'a.connection_id');
    if (filter.connectionNames?.length) q = q.where('c.name', 'in', filter.connectionNames);
    if (filter.connectionId) q = q.where('c.id', '=', filter.connectionId);
    if (filter.identifier) q = q.where('a.identifier', '=', filter.identifier);
    if (filter.provider) q = q.where('c.provider', '=', filter.provider);
    if (filter.status) q = q.where('a.status', '=', filter.status);
    if (filter.query) {
      const like = `%${filter.query.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      // SQLite's LIKE has no default escape character; the provider account (an email) matches in any case.
      q = q.where((eb) =>
        eb.or([
          sql<boolean>`a.identifier like ${like} escape '\\'`,
          sql<boolean>`lower(a.provider_account) like ${like.toLowerCase()} escape '\\'`,
          eb('a.id', '=', filter.query ?? ''),
        ]),
      );
    }
    const [rows, total] = await Promise.all([
      q
        .selectAll('a')
        .select(['c.name as c_name', 'c.provider as c_provider'])
        .orderBy('a.created_at', 'asc')
        .orderBy('a.id', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(total.n) };
  }

  /** Revokes the grant at the provider (best effort), then removes the account (its links and history row stay void). */
  async delete(ref: AccountRef): Promise<Revocation> {
    const { account, connection } = await this.get(ref);
    const revocation = await this.revokeAtProvider(account, connection);
    await this.deps.changes.write(['accounts'], (trx) =>
      trx.deleteFrom('connected_accounts').where('id', '=', account.id).execute(),
    );
    this.deps.vault.forget(account.id);
    await this.deps.events.record(account, 'account.deleted');
    return revocation;
  }

  /**
   * Revokes the grant and forgets the tokens; the account stays, DISCONNECTED, until a new
   * consent. Every link is revoked and the bound provider identity is reset: the next
   * consent may come from any provider account.
   */
  async disconnect(ref: AccountRef) {
    const { account, connection } = await this.get(ref);
    const revocation = await this.revokeAtProvider(account, connection);
    const values = {
      status: 'DISCONNECTED',
      status_reason: 'disconnected',
      tokens_enc: null,
      key_id: null,
      token_expires_at: null,
      provider_subject: null,
      token_version: account.token_version + 1,
      updated_at: this.now(),
    };
    await this.deps.changes.write(['accounts'], async (trx) => {
      await trx.updateTable('connected_accounts').set(values).where('id', '=', account.id).execute();
      await this.revokeLinks(account.id, trx);
      await trx.deleteFrom('user_verifications').where('connected_account_id', '=', account.id).execute();
    });
    this.deps.vault.forget(account.id);
    await this.deps.events.record(account, 'account.disconnected');
    return { account: { ...account, ...values }, connection, revocation };
  }

  /** Revokes every unspent authentication link of the account. */
  async revokeLinks(accountId: string, db: Kysely<Database> | Transaction<Database> = this.deps.db): Promise<void> {
    await db
      .updateTable('auth_links')
      .set({ revoked_at: this.now() })
      .where('connected_account_id', '=', accountId)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** `none` when no token was held (never consented, or unreadable); `failed` is logged by the OAuth client. */
  private async revokeAtProvider(account: AccountRow, connection: ConnectionRow): Promise<Revocation> {
    let tokens: ReturnType<TokenVault['openTokens']>;
    try {
      tokens = this.deps.vault.openTokens(account);
    } catch {
      return 'none';
    }
    const token = tokens?.refresh_token ?? tokens?.access_token;
    if (!token) return 'none';
    return (await this.deps.oauth.revoke(this.deps.connections.oauthApp(connection), token)) ? 'revoked' : 'failed';
  }

  private async write(account: AccountRow, values: Partial<AccountRow>): Promise<AccountRow> {
    await this.deps.changes.write(['accounts'], (trx) =>
      trx.updateTable('connected_accounts').set(values).where('id', '=', account.id).execute(),
    );
    this.deps.vault.forget(account.id);
    return { ...account, ...values };
  }

  private grantValues(account: AccountRow, connection: ConnectionRow, tokens: TokenSet, previousRefresh?: string) {
    return {
      ...this.deps.vault.sealTokens(account.id, tokens, previousRefresh),
      granted_scopes: JSON.stringify(
        tokens.scopes ?? this.deps.oauth.requestedScopes(this.deps.connections.oauthApp(connection)),
      ),
      token_version: account.token_version + 1,
      updated_at: this.now(),
    };
  }

  /**
   * Stores a new grant for the account (a finished consent, or tokens a backend brought): it
   * becomes ACTIVE, bound to the provider identity when it was not bound yet.
   */
  async activate(account: AccountRow, connection: ConnectionRow, tokens: TokenSet, identity: ProviderIdentity = {}) {
    // refresh_token is optional in a token response (RFC 6749 §5.1), often absent on a re-consent:
    // keep ours, unless it was dropped or never confirmed as this user's.
    const keepRefresh = account.status !== 'DISCONNECTED' && account.status !== 'PENDING_VERIFICATION';
    const previous = keepRefresh ? safeOpen(this.deps.vault, account)?.refresh_token : undefined;
    const values = {
      ...this.grantValues(account, connection, tokens, previous),
      status: 'ACTIVE',
      status_reason: null,
      provider_account: identity.account ?? account.provider_account,
      provider_subject: account.provider_subject ?? identity.subject ?? null,
    };
    const { subject } = identity;
    if (subject === undefined) return this.write(account, values);
    // The binding is compared and set in one statement: two consents through sibling links
    // (a link from a tool error does not revoke the others) may both have read the account
    // unbound, and the second must not replace the provider account the first bound.
    const done = await this.deps.changes.write(['accounts'], (trx) =>
      trx
        .updateTable('connected_accounts')
        .set(values)
        .where('id', '=', account.id)
        .where((eb) => eb.or([eb('provider_subject', 'is', null), eb('provider_subject', '=', subject)]))
        .executeTakeFirst(),
    );
    this.deps.vault.forget(account.id);
    if (Number(done.numUpdatedRows) === 0) {
      throw new AppError('identity_mismatch', 'another provider account was connected to this account meanwhile');
    }
    return { ...account, ...values };
  }

  /**
   * A consent waiting for user verification: its grant is held, sealed, on the verification
   * row. An ACTIVE account keeps working on its own grant until the app confirms the user; any
   * other account waits in PENDING_VERIFICATION. The row and the status change commit
   * together, so no read ever sees the account pending without its verification (which
   * `expireUnverified` would expire).
   */
  async holdForVerification(
    account: AccountRow,
    verification: Insertable<UserVerificationsTable>,
  ): Promise<AccountRow> {
    const hold = async (trx: Transaction<Database>) => {
      await trx.deleteFrom('user_verifications').where('connected_account_id', '=', account.id).execute();
      await trx.insertInto('user_verifications').values(verification).execute();
    };
    if (account.status === 'ACTIVE') {
      await this.deps.db.transaction().execute(hold);
      return account;
    }
    const values = {
      status: 'PENDING_VERIFICATION',
      status_reason: 'awaiting_user_verification',
      token_version: account.token_version + 1,
      updated_at: this.now(),
    };
    const done = await this.deps.changes.write(['accounts'], async (trx) => {
      await hold(trx);
      // An account that became ACTIVE since it was read stays so; the grant waits on the row.
      return trx
        .updateTable('connected_accounts')
        .set(values)
        .where('id', '=', account.id)
        .where('status', '!=', 'ACTIVE')
        .executeTakeFirst();
    });
    this.deps.vault.forget(account.id);
    return Number(done.numUpdatedRows) === 0 ? account : { ...account, ...values };
  }

  /**
   * The app confirmed the user: the held grant (none when an older build held it on the
   * account) becomes the account's, ACTIVE, and the provider identity is bound. Undefined when
   * the account's status changed since `account` was read.
   */
  async confirmVerification(
    account: AccountRow,
    identity: ProviderIdentity,
    held?: { connection: ConnectionRow; tokens: TokenSet },
  ): Promise<AccountRow | undefined> {
    // A re-consent of a working account may omit the refresh token (RFC 6749 §5.1): keep its own.
    const previous = account.status === 'PENDING_VERIFICATION' ? undefined : safeOpen(this.deps.vault, account);
    const values = {
      ...(held ? this.grantValues(account, held.connection, held.tokens, previous?.refresh_token) : {}),
      status: 'ACTIVE',
      status_reason: null,
      provider_account: identity.account ?? account.provider_account,
      provider_subject: account.provider_subject ?? identity.subject ?? null,
      updated_at: this.now(),
    };
    // On the row's own version: a refresh of a working account may have moved it meanwhile.
    const done = await this.deps.changes.write(['accounts'], (trx) =>
      trx
        .updateTable('connected_accounts')
        .set({ ...values, token_version: sql<number>`token_version + 1` })
        .where('id', '=', account.id)
        .where('status', '=', account.status)
        .executeTakeFirst(),
    );
    this.deps.vault.forget(account.id);
    if (Number(done.numUpdatedRows) === 0) return undefined;
    return { ...account, ...values, token_version: account.token_version + 1 };
  }

  /**
   * Discards the grant a consent held for a PENDING_VERIFICATION account (revoked at the
   * provider, best effort: `held`, or the account's own tokens when an older build held the
   * grant there); the account stays unverified.
   */
  async dropPendingGrant(
    account: AccountRow,
    connection: ConnectionRow,
    reason: string,
    held?: TokenSet,
  ): Promise<AccountRow> {
    if (held) {
      await this.deps.oauth.revoke(this.deps.connections.oauthApp(connection), held.refreshToken ?? held.accessToken);
    } else {
      await this.revokeAtProvider(account, connection);
    }
    return this.write(account, {
      status: 'PENDING_VERIFICATION',
      status_reason: reason,
      tokens_enc: null,
      key_id: null,
      token_expires_at: null,
      token_version: account.token_version + 1,
      updated_at: this.now(),
    });
  }

  /**
   * Accounts whose user verification ran out become EXPIRED and lose their tokens, and the
   * grants held for verifications that ran out are dropped (an ACTIVE account keeps its own).
   * Run before accounts are read, so nobody sees a stale PENDING_VERIFICATION; tools never use
   * such an account anyway (only ACTIVE accounts hand out tokens).
   */
  async expireUnverified(): Promise<void> {
    const now = this.now();
    const [stale, heldTooLong] = await Promise.all([
      this.deps.db
        .selectFrom('connected_accounts as a')
        .selectAll('a')
        .where('a.status', '=', 'PENDING_VERIFICATION')
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('user_verifications as v')
                .select('v.id')
                .whereRef('v.connected_account_id', '=', 'a.id')
                .where('v.expires_at', '>', now),
            ),
          ),
        )
        .execute(),
      this.deps.db
        .selectFrom('user_verifications')
        .select('id')
        .where('tokens_enc', 'is not', null)
        .where('expires_at', '<=', now)
        .execute(),
    ]);
    if (heldTooLong.length) {
      await this.deps.db
        .updateTable('user_verifications')
        .set({ tokens_enc: null, key_id: null })
        .where(
          'id',
          'in',
          heldTooLong.map((row) => row.id),
        )
        .execute();
    }
    for (const account of stale) {
      const done = await this.deps.changes.write(['accounts'], (trx) =>
        trx
          .updateTable('connected_accounts')
          .set({
            status: 'EXPIRED',
            status_reason: 'user_verification_expired',
            tokens_enc: null,
            key_id: null,
            token_expires_at: null,
            token_version: account.token_version + 1,
            updated_at: now,
          })
          .where('id', '=', account.id)
          .where('status', '=', 'PENDING_VERIFICATION')
          .executeTakeFirst(),
      );
      if (Number(done.numUpdatedRows) === 0) continue;
      this.deps.vault.forget(account.id);
      await this.deps.events.record(account, 'account.verification_expired');
    }
  }

  /** Stores tokens a backend brought (reference: UpdateConnectedAccount); the account becomes ACTIVE. */
  async replaceTokens(account: AccountRow, connection: ConnectionRow, tokens: TokenSet): Promise<AccountRow> {
    return this.activate(account, connection, tokens);
  }

  /** Notes a use of the account; last_used_at follows within about a second (db/usage-marks.ts). */
  touch(accountId: string): void {
    this.deps.usage.mark('connected_accounts', accountId);
  }
}

function safeOpen(vault: TokenVault, account: AccountRow) {
  try {
    return vault.openTokens(account);
  } catch {
    return undefined;
  }
}
