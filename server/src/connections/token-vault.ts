import { SpanKind } from '@opentelemetry/api';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AccountEvents } from '../accounts/account-events.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import type { Engine } from '../db/database.js';
import type { ConnectedAccountsTable, Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { GrantRevokedError, type OAuthClient, type TokenSet } from '../oauth/client.js';
import type { Metrics } from '../observability/metrics.js';
import { inSpan } from '../observability/tracing.js';
import type { Connections } from './connections.js';

export type AccountRow = Selectable<ConnectedAccountsTable>;

interface StoredTokens {
  access_token: string;
  refresh_token?: string;
  token_type: string;
}

/** A usable access token, with the version it came from (to ask for a newer one after a 401). */
export interface AccessGrant {
  accountId: string;
  accessToken: string;
  version: number;
  scopes: string[];
}

/** Refresh this long before the provider's expiry, so a token never dies in flight. */
const REFRESH_SKEW_MS = 60_000;

/** Decrypted grants kept per process; beyond this the oldest go first. */
const MAX_CACHED_GRANTS = 50_000;

/**
 * How long a decrypted grant may be kept, at most (its token's expiry ends it sooner). Longer
 * than the other caches' 60 s backstop, because a grant is only ever served for a row the
 * caller read, and only at that row's token version: every token write bumps it. So a user
 * who comes back after the account and instance caches expired (an agent calling every few
 * minutes) pays for re-reading the rows, not for decrypting the token again. What this age
 * still bounds: tokens rewritten by hand in the database at the same version (the 401 path
 * also replaces those), and how long a decrypted token stays in memory after its last use.
 */
export const GRANT_MAX_AGE_MS = 15 * 60_000;

const tokensContext = ENCRYPTED_COLUMNS.accountTokens.context;

interface CachedGrant {
  grant: AccessGrant;
  /** Provider expiry in ms, or undefined when the provider gave none. */
  expiresAt: number | undefined;
}

export function statusError(row: Pick<AccountRow, 'status' | 'identifier'>, connectionName: string): AppError {
  const who = `${connectionName} for ${row.identifier}`;
  switch (row.status) {
    case 'EXPIRED':
      return new AppError('account_expired', `the connected account ${who} has expired and must be re-authorized`);
    case 'DISCONNECTED':
      return new AppError('account_disconnected', `the connected account ${who} was disconnected`);
    default:
      return new AppError('account_not_connected', `the connected account ${who} is not authorized yet`);
  }
}

/**
 * Tokens of connected accounts: encrypted at rest, refreshed before expiry or after a 401,
 * single-flight per account (one refresh however many callers wait, in this process by a
 * shared promise and across processes by a row lock on Postgres). A refresh token the
 * provider rotates is written in the same statement as the new access token.
 */
export class TokenVault {
  private readonly inflight = new Map<string, Promise<AccessGrant>>();
  /**
   * Decrypted access tokens until shortly before they expire, so a call neither reads nor
   * decrypts the row. An entry is only used for a row whose status (ACTIVE) and
   * token_version the caller read; a disconnect or re-consent bumps the version, an
   * expiry changes the status, and both empty the accounts scope on every replica.
   */
  private readonly grants: ScopedCache<string, CachedGrant>;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      engine: Engine;
      encryptor: Encryptor;
      clock: Clock;
      oauth: OAuthClient;
      logger: Logger;
      changes: ChangeFeed;
      connections: Connections;
      events: AccountEvents;
      /** Refreshes and their failures are counted here when given. */
      metrics?: Metrics;
    },
  ) {
    this.grants = deps.changes.cache([], MAX_CACHED_GRANTS, { name: 'token_grants', maxAgeMs: GRANT_MAX_AGE_MS });
  }

  /** Drops the cached grant of an account whose tokens were just removed or replaced. */
  forget(accountId: string): void {
    this.grants.delete(accountId);
  }

  private remember(grant: AccessGrant, expiresAt: string | number | null | undefined, generation: number): AccessGrant {
    const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : (expiresAt ?? undefined);
    this.grants.set(grant.accountId, { grant, expiresAt: at }, generation);
    return grant;
  }

  /** Encrypted column values for a token set (keeping the old refresh token when none is new). */
  sealTokens(accountId: string, tokens: TokenSet, previousRefreshToken?: string) {
    const stored: StoredTokens = {
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken ?? previousRefreshToken,
      token_type: tokens.tokenType,
    };
    const { ciphertext, keyId } = this.deps.encryptor.encrypt(JSON.stringify(stored), tokensContext(accountId));
    return {
      tokens_enc: ciphertext,
      key_id: keyId,
      token_expires_at: tokens.expiresAt ? new Date(tokens.expiresAt).toISOString() : null,
    };
  }

  openTokens(row: Pick<AccountRow, 'id' | 'tokens_enc' | 'key_id'>): StoredTokens | undefined {
    if (!row.tokens_enc || !row.key_id) return undefined;
    return JSON.parse(this.deps.encryptor.decrypt(row.tokens_enc, row.key_id, tokensContext(row.id))) as StoredTokens;
  }

  private isFresh(row: AccountRow): boolean {
    return this.freshUntil(row.token_expires_at ? Date.parse(row.token_expires_at) : undefined);
  }

  private freshUntil(expiresAt: number | undefined): boolean {
    return expiresAt === undefined || expiresAt - this.deps.clock.now() > REFRESH_SKEW_MS;
  }

  private grant(row: AccountRow, tokens: StoredTokens): AccessGrant {
    return {
      accountId: row.id,
      accessToken: tokens.access_token,
      version: row.token_version,
      scopes: JSON.parse(row.granted_scopes) as string[],
    };
  }

  private async loadRow(accountId: string): Promise<AccountRow> {
    const row = await this.deps.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `connected account ${accountId} not found`);
    return row;
  }

  private async connectionName(row: AccountRow): Promise<string> {
    return (await this.deps.connections.get(row.connection_id)).name;
  }

  /**
   * A valid access token for the account. `staleVersion` is the version of a token the
   * provider just refused with 401: a newer one is returned, refreshing when needed.
   * `known` is the account row the caller already holds (possibly from a cache): when it
   * is ACTIVE and a cached grant is at least as new and not expiring, no query is made.
   */
  async getAccessToken(
    accountId: string,
    options: {
      staleVersion?: number;
      known?: Pick<AccountRow, 'status' | 'token_version'>;
      /**
       * The account's row as the caller just read it from the database (never one from a
       * cache): used instead of reading it again, so a user's first call costs one query less.
       */
      row?: AccountRow;
    } = {},
  ): Promise<AccessGrant> {
    const { known, staleVersion } = options;
    if (known?.status === 'ACTIVE') {
      const cached = this.grants.get(accountId);
      if (
        cached &&
        cached.grant.version >= known.token_version &&
        cached.grant.version !== staleVersion &&
        this.freshUntil(cached.expiresAt)
      ) {
        return cached.grant;
      }
    }
    const generation = this.grants.generation;
    const row = options.row?.id === accountId ? options.row : await this.loadRow(accountId);
    if (row.status !== 'ACTIVE') throw statusError(row, await this.connectionName(row));
    const tokens = this.openTokens(row);
    if (!tokens) throw statusError({ ...row, status: 'PENDING_AUTH' }, await this.connectionName(row));
    if (this.isFresh(row) && staleVersion !== row.token_version) {
      return this.remember(this.grant(row, tokens), row.token_expires_at, generation);
    }
    return this.refreshOnce(accountId, row.token_version);
  }

  /** Refreshes now (e.g. for an admin "refresh" action), single-flight like any refresh. */
  async forceRefresh(accountId: string): Promise<AccessGrant> {
    const row = await this.loadRow(accountId);
    return this.refreshOnce(accountId, row.token_version);
  }

  private refreshOnce(accountId: string, seenVersion: number): Promise<AccessGrant> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    this.grants.delete(accountId);
    const flight = inSpan('token_vault.refresh', {}, () => this.refreshLocked(accountId, seenVersion)).finally(() =>
      this.inflight.delete(accountId),
    );
    this.inflight.set(accountId, flight);
    return flight;
  }

  private async refreshLocked(accountId: string, seenVersion: number): Promise<AccessGrant> {
    if (this.deps.engine === 'postgres') {
      // The row lock makes other processes wait here; when they get it, the version
      // has moved on and they use the token this refresh stored.
      const outcome = await this.deps.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('connected_accounts')
          .selectAll()
          .where('id', '=', accountId)
          .forUpdate()
          .executeTakeFirst();
        return this.refreshRow(trx, row, seenVersion);
      });
      return this.settle(outcome);
    }
    const row = await this.deps.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirst();
    return this.settle(await this.refreshRow(this.deps.db, row, seenVersion));
  }

  /** After the refresh committed: an account that just expired leaves every replica's caches. */
  private async settle(outcome: AccessGrant | AppError): Promise<AccessGrant> {
    if (outcome instanceof AppError) {
      if (outcome.code === 'account_expired') this.deps.changes.forget(['accounts']);
      throw outcome;
    }
    return outcome;
  }

  /** Refreshes one locked (Postgres) or freshly read (SQLite) row. Errors are returned, so the
   * EXPIRED status commits with the transaction instead of rolling back. */
  private async refreshRow(
    db: Kysely<Database> | Transaction<Database>,
    row: AccountRow | undefined,
    seenVersion: number,
  ): Promise<AccessGrant | AppError> {
    if (!row) return new AppError('not_found', 'the connected account no longer exists');
    const connection = await db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', row.connection_id)
      .executeTakeFirst();
    if (!connection) return new AppError('not_found', 'the connection of this account no longer exists');
    if (this.deps.engine !== 'postgres' && !(await this.sameVersion(db, row))) {
      // Unlocked (SQLite): the row changed after it was read, perhaps by a target switch that
      // dropped its grant; a token is only ever sent to the target it was read with.
      return this.latestGrant(row.id, connection.name);
    }
    if (row.status !== 'ACTIVE') return statusError(row, connection.name);
    const tokens = this.openTokens(row);
    if (!tokens) return statusError({ ...row, status: 'PENDING_AUTH' }, connection.name);
    if (row.token_version !== seenVersion && this.isFresh(row)) {
      return this.remember(this.grant(row, tokens), row.token_expires_at, this.grants.generation);
    }

    const now = new Date(this.deps.clock.now()).toISOString();
    if (!tokens.refresh_token) {
      await this.markExpired(db, row, 'no_refresh_token', now);
      return statusError({ ...row, status: 'EXPIRED' }, connection.name);
    }
    let fresh: TokenSet;
    try {
      fresh = await inSpan(
        'oauth.refresh',
        { 'switchboard.provider': connection.provider },
        () => this.deps.oauth.refresh(this.deps.connections.oauthApp(connection), tokens.refresh_token as string),
        SpanKind.CLIENT,
      );
      this.deps.metrics?.tokenRefresh('success');
    } catch (error) {
      this.deps.metrics?.tokenRefresh(error instanceof GrantRevokedError ? 'refused' : 'failed');
      if (error instanceof GrantRevokedError) {
        this.deps.logger.warn({ accountId: row.id, reason: error.oauthError }, 'refresh refused; account expired');
        await this.markExpired(db, row, error.oauthError, now);
        return statusError({ ...row, status: 'EXPIRED' }, connection.name);
      }
      if (error instanceof AppError) return error;
      throw error;
    }
    const sealed = this.sealTokens(row.id, fresh, tokens.refresh_token);
    const scopes = fresh.scopes ? JSON.stringify(fresh.scopes) : row.granted_scopes;
    const result = await db
      .updateTable('connected_accounts')
      .set({ ...sealed, granted_scopes: scopes, token_version: row.token_version + 1, updated_at: now })
      .where('id', '=', row.id)
      .where('token_version', '=', row.token_version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      // Another process on the same SQLite file stored a newer token meanwhile: use theirs.
      return this.latestGrant(row.id, connection.name);
    }
    const grant: AccessGrant = {
      accountId: row.id,
      accessToken: fresh.accessToken,
      version: row.token_version + 1,
      scopes: JSON.parse(scopes) as string[],
    };
    // On Postgres the transaction commits after this returns; a reader that sees the
    // cached grant before then still gets the token the provider just issued.
    return this.remember(grant, fresh.expiresAt, this.grants.generation);
  }

  private async sameVersion(db: Kysely<Database> | Transaction<Database>, row: AccountRow): Promise<boolean> {
    const current = await db
      .selectFrom('connected_accounts')
      .select('token_version')
      .where('id', '=', row.id)
      .executeTakeFirst();
    return current !== undefined && Number(current.token_version) === row.token_version;
  }

  private async latestGrant(accountId: string, connectionName: string): Promise<AccessGrant | AppError> {
    const latest = await this.loadRow(accountId);
    const latestTokens = this.openTokens(latest);
    if (latest.status !== 'ACTIVE' || !latestTokens) return statusError(latest, connectionName);
    return this.grant(latest, latestTokens);
  }

  /** EXPIRED keeps the old record (tokens included) so nothing is lost; a new consent replaces it. */
  private async markExpired(
    db: Kysely<Database> | Transaction<Database>,
    row: AccountRow,
    reason: string,
    now: string,
  ) {
    const expire = async (trx: Transaction<Database>) => {
      await trx
        .updateTable('connected_accounts')
        .set({ status: 'EXPIRED', status_reason: reason, updated_at: now })
        .where('id', '=', row.id)
        .execute();
      await this.deps.events.record(row, 'account.refresh_failed', { reason }, trx);
      await this.deps.changes.changedIn(trx, ['accounts']);
    };
    // On Postgres this is the refresh's own transaction, which commits the bump with the status.
    if (db.isTransaction) await expire(db as Transaction<Database>);
    else await db.transaction().execute(expire);
    this.forget(row.id);
  }
}
