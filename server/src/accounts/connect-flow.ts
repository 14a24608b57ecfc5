import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ConnectionRow, Connections } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { hashSecret, newId, newSecret, pkceChallenge } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OAuthClient, TokenSet } from '../oauth/client.js';
import type { AccountEvents } from './account-events.js';
import type { ConnectedAccounts } from './connected-accounts.js';

export interface AuthLink {
  link: string;
  expiry: string;
}

export interface AuthLinkOptions {
  /** The app page that confirms who consented; else the connection's, else the server's. */
  userVerifyUrl?: string;
  /** Opaque state handed back to that page. */
  state?: string;
  /** What asked for the link, for the account's history. */
  source?: 'api' | 'tool_error' | 'mcp_auth_state' | 'dashboard';
  /** Scopes to ask for besides the connection's (a config's tools need them). */
  extraScopes?: string[];
}

/** Where the browser goes after a consent that waits for user verification. */
export interface PendingVerification {
  url: string;
}

interface Deps {
  db: Kysely<Database>;
  config: Config;
  clock: Clock;
  encryptor: Encryptor;
  oauth: OAuthClient;
  logger: Logger;
  connections: Connections;
  accounts: ConnectedAccounts;
  events: AccountEvents;
  /**
   * Test hook: awaited after a callback has read and checked its state, right before the
   * atomic claim, so a test can hold two callbacks there and make them race for real.
   */
  beforeClaim?: (requestId: string) => Promise<void>;
}

/** The consent must finish within this long of opening the link. */
const AUTH_REQUEST_TTL_MS = 10 * 60_000;
/** The app must confirm the user within this long of the consent; then the pending grant expires. */
export const USER_VERIFICATION_TTL_MS = 10 * 60_000;

const verifierContext = ENCRYPTED_COLUMNS.authRequestVerifier.context;
const heldGrantContext = ENCRYPTED_COLUMNS.heldGrant.context;

/** A consent's grant while the app's user verification is pending, with the OAuth app it came from. */
interface HeldGrant {
  tokens: TokenSet;
  target: string;
  oauth_client_id: string;
}

/**
 * The statuses in which a held grant may still become the account's: pending, or working (a
 * re-consent), or expired since (a refresh failed). A disconnect, or a target change, ended it.
 */
const VERIFIABLE_WITH_HELD_GRANT = ['PENDING_VERIFICATION', 'ACTIVE', 'EXPIRED'];

/**
 * The OAuth connect flow that activates a connected account: authentication links, then for
 * each opening a single-use `state` with a PKCE verifier, then the provider's redirect back,
 * then (when a verify URL applies) the app's confirmation of who consented.
 * Every failure is an AppError with a connect-flow code (auth_link_*, auth_state_*,
 * consent_denied, identity_mismatch, provider_error, user_verification_*) that the edges translate.
 */
export class ConnectFlow {
  constructor(private readonly deps: Deps) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * A fresh authentication link for the account (created PENDING_AUTH when missing). A link
   * asked for explicitly (the API, the dashboard) revokes the account's older unspent links:
   * only the newest one can bind a provider account. Links that failures hand out (a tool
   * error, an MCP auth state) leave the others be, since an agent's retries or parallel calls
   * must not void the link the user already has; the first consent through any of them
   * revokes the rest (`spendLink`).
   */
  async authLink(
    connection: ConnectionRow,
    identifier: string,
    options: AuthLinkOptions = {},
  ): Promise<AuthLink & { account: AccountRow }> {
    const { account } = await this.deps.accounts.ensureFor(connection, identifier);
    const token = newSecret(24);
    const now = this.now();
    const expiresAt = new Date(this.deps.clock.now() + this.deps.config.authLinkTtlSeconds * 1000).toISOString();
    const verifyUrl = options.userVerifyUrl ?? connection.user_verify_url ?? this.deps.config.userVerifyUrl ?? null;
    const id = newId('al');
    const source = options.source ?? 'api';
    if (source === 'api' || source === 'dashboard') await this.deps.accounts.revokeLinks(account.id);
    await this.deps.db
      .insertInto('auth_links')
      .values({
        id,
        token_hash: hashSecret(token),
        connected_account_id: account.id,
        expires_at: expiresAt,
        used_at: null,
        revoked_at: null,
        user_verify_url: verifyUrl,
        verify_state: verifyUrl ? (options.state ?? null) : null,
        extra_scopes: options.extraScopes?.length ? JSON.stringify(options.extraScopes) : null,
        created_at: now,
      })
      .execute();
    await this.deps.events.record(account, 'account.link_issued', {
      link_id: id,
      link_expiry: expiresAt,
      source,
      user_verification: verifyUrl !== null,
    });
    return { link: `${this.deps.config.publicUrl}/connect/${token}`, expiry: expiresAt, account };
  }

  /**
   * Opening an authentication link: a new single-use `state` and PKCE verifier, then the
   * provider's authorize URL. A link may be opened again until a consent through it
   * completes, a newer link revokes it, or it expires.
   */
  async startAuthorization(linkToken: string, loginHint?: string): Promise<{ url: string }> {
    const link = await this.deps.db
      .selectFrom('auth_links')
      .selectAll()
      .where('token_hash', '=', hashSecret(linkToken))
      .executeTakeFirst();
    if (!link) throw new AppError('auth_link_invalid', 'this authentication link is not valid');
    assertLinkUsable(link, this.deps.clock.now());
    const { account, connection } = await this.deps.accounts.get({ id: link.connected_account_id });
    const state = newSecret(32);
    const verifier = newSecret(48);
    const requestId = newId('ar');
    const sealed = this.deps.encryptor.encrypt(verifier, verifierContext(requestId));
    await this.deps.db
      .insertInto('auth_requests')
      .values({
        id: requestId,
        state_hash: hashSecret(state),
        connected_account_id: account.id,
        code_verifier_enc: sealed.ciphertext,
        key_id: sealed.keyId,
        auth_link_id: link.id,
        expires_at: new Date(this.deps.clock.now() + AUTH_REQUEST_TTL_MS).toISOString(),
        used_at: null,
        created_at: this.now(),
      })
      .execute();
    const app = this.deps.connections.oauthApp(connection);
    const extra = link.extra_scopes ? (JSON.parse(link.extra_scopes) as string[]) : [];
    const scopes = extra.length ? [...new Set([...this.deps.oauth.requestedScopes(app), ...extra])] : app.scopes;
    return { url: this.deps.oauth.authorizeUrl({ ...app, scopes }, state, pkceChallenge(verifier), loginHint) };
  }

  /**
   * The provider's redirect back. The state, then the link, are claimed atomically before the
   * code is exchanged, so a replayed or concurrent callback cannot use either twice; the link
   * is spent whatever the consent's outcome. A consent by another provider account than the
   * bound one is refused. Whatever fails, the account keeps its previous status and tokens.
   * With a verify URL the grant is held for the app's confirmation (an account that is not
   * ACTIVE waits in PENDING_VERIFICATION) and `verification` says where the browser goes next.
   */
  async completeAuthorization(
    params: URLSearchParams,
  ): Promise<{ account: AccountRow; connection: ConnectionRow; verification?: PendingVerification }> {
    const state = params.get('state');
    const request = state
      ? await this.deps.db
          .selectFrom('auth_requests')
          .selectAll()
          .where('state_hash', '=', hashSecret(state))
          .executeTakeFirst()
      : undefined;
    const found = request ? await this.deps.accounts.find({ id: request.connected_account_id }) : undefined;
    if (!request || !found) throw new AppError('auth_state_invalid', 'this authorization request is not known');
    const { connection } = found;
    const reused = () => new AppError('auth_state_reused', 'this authorization request was already used');
    if (request.used_at) throw reused();
    if (Date.parse(request.expires_at) <= this.deps.clock.now()) {
      throw new AppError('auth_state_expired', 'this authorization request has expired');
    }

    await this.deps.beforeClaim?.(request.id);
    const claimed = await this.deps.db
      .updateTable('auth_requests')
      .set({ used_at: this.now() })
      .where('id', '=', request.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw reused();
    const link = request.auth_link_id ? await this.spendLink(request.auth_link_id) : undefined;

    const failed = async (error: AppError) => {
      await this.deps.events.record(found.account, 'account.consent_failed', { link_id: link?.id, reason: error.code });
      return error;
    };
    const error = params.get('error');
    if (error === 'access_denied') throw await failed(new AppError('consent_denied', 'the user declined the request'));
    if (error) {
      throw await failed(new AppError('provider_error', `the provider answered the authorization with ${error}`));
    }
    const verifier = this.deps.encryptor.decrypt(
      request.code_verifier_enc,
      request.key_id,
      verifierContext(request.id),
    );
    const app = this.deps.connections.oauthApp(connection);
    let tokens: TokenSet;
    try {
      tokens = await this.deps.oauth.exchangeCode(app, params, verifier);
    } catch (cause) {
      const detail = cause instanceof AppError ? cause.message : 'the provider could not be reached';
      this.deps.logger.warn({ accountId: found.account.id, detail }, 'authorization code exchange failed');
      throw await failed(new AppError('provider_error', detail, { cause }));
    }
    // A target switch (sandbox ⇄ provider) or another OAuth app while the code was being
    // exchanged: these tokens come from the app the change left behind, and that change has
    // just dropped every grant of the connection. Never store them.
    const latest = await this.deps.connections.get(connection.id);
    if (latest.target !== connection.target || latest.oauth_client_id !== connection.oauth_client_id) {
      await this.deps.oauth.revoke(app, tokens.refreshToken ?? tokens.accessToken);
      throw await failed(
        new AppError(
          'failed_precondition',
          `the connection ${connection.name} changed while this consent was open; open a new authentication link`,
        ),
      );
    }
    const identity = await this.deps.oauth.accountIdentity(app, tokens.accessToken);
    // Read again: a disconnect or another consent may have changed the binding meanwhile.
    const current = (await this.deps.accounts.get({ id: found.account.id })).account;
    const refuseOtherIdentity = async (bound: AccountRow): Promise<never> => {
      await this.deps.oauth.revoke(app, tokens.refreshToken ?? tokens.accessToken);
      if (!identity.subject) {
        throw await failed(new AppError('provider_error', 'the provider did not say which account consented'));
      }
      await this.deps.events.record(bound, 'account.identity_mismatch', {
        link_id: link?.id,
        provider_account: bound.provider_account ?? undefined,
        attempted_provider_account: identity.account,
      });
      throw new AppError(
        'identity_mismatch',
        `this account is connected to ${bound.provider_account ?? 'another provider account'}; a different account cannot replace it`,
      );
    };
    if (current.provider_subject && identity.subject !== current.provider_subject) await refuseOtherIdentity(current);

    if (link?.user_verify_url) {
      const authRequestId = newSecret(32);
      const verificationId = newId('uv');
      const grant: HeldGrant = { tokens, target: connection.target, oauth_client_id: connection.oauth_client_id };
      const sealed = this.deps.encryptor.encrypt(JSON.stringify(grant), heldGrantContext(verificationId));
      const account = await this.deps.accounts.holdForVerification(current, {
        id: verificationId,
        request_hash: hashSecret(authRequestId),
        connected_account_id: current.id,
        provider_subject: identity.subject ?? null,
        provider_account: identity.account ?? null,
        expires_at: new Date(this.deps.clock.now() + USER_VERIFICATION_TTL_MS).toISOString(),
        used_at: null,
        created_at: this.now(),
        tokens_enc: sealed.ciphertext,
        key_id: sealed.keyId,
      });
      await this.deps.events.record(account, 'account.verification_requested', {
        link_id: link.id,
        provider_account: identity.account,
      });
      const url = new URL(link.user_verify_url);
      url.searchParams.set('auth_request_id', authRequestId);
      if (link.verify_state !== null) url.searchParams.set('state', link.verify_state);
      return { account, connection, verification: { url: url.toString() } };
    }
    let account: AccountRow;
    try {
      account = await this.deps.accounts.activate(current, connection, tokens, identity);
    } catch (error) {
      // Another consent bound the account between the read above and this write.
      if (!isAppError(error) || error.code !== 'identity_mismatch') throw error;
      return refuseOtherIdentity((await this.deps.accounts.get({ id: current.id })).account);
    }
    await this.deps.events.record(account, 'account.consent_completed', {
      link_id: link?.id,
      provider_account: identity.account,
    });
    return { account, connection };
  }

  /**
   * The app's confirmation that the person who consented is `identifier` (reference:
   * VerifyConnectedAccountUser). The auth request is spent by any answer; only the account's
   * own identifier applies the held grant. A mismatch drops the held grant; an ACTIVE account
   * keeps its own grant either way.
   */
  async verifyUser(authRequestId: string, identifier: string): Promise<{ postUserVerifyRedirectUrl: string }> {
    await this.deps.accounts.expireUnverified();
    const request = await this.deps.db
      .selectFrom('user_verifications')
      .selectAll()
      .where('request_hash', '=', hashSecret(authRequestId))
      .executeTakeFirst();
    const unknown = (message = 'no user verification is pending for this auth_request_id') =>
      new AppError('user_verification_invalid', message);
    if (!request) throw unknown();
    const used = () => new AppError('user_verification_used', 'this auth_request_id was already used');
    if (request.used_at) throw used();
    if (Date.parse(request.expires_at) <= this.deps.clock.now()) {
      throw new AppError('user_verification_expired', 'this auth_request_id has expired; the user must connect again');
    }
    // Spent, and the held grant leaves the row, whatever comes next.
    const claimed = await this.deps.db
      .updateTable('user_verifications')
      .set({ used_at: this.now(), tokens_enc: null, key_id: null })
      .where('id', '=', request.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw used();
    const held =
      request.tokens_enc && request.key_id
        ? (JSON.parse(
            this.deps.encryptor.decrypt(request.tokens_enc, request.key_id, heldGrantContext(request.id)),
          ) as HeldGrant)
        : undefined;
    const found = await this.deps.accounts.find({ id: request.connected_account_id });
    // Without a held grant, an older build held it on the account, which waits in PENDING_VERIFICATION.
    const verifiable = held ? VERIFIABLE_WITH_HELD_GRANT : ['PENDING_VERIFICATION'];
    if (!found || !verifiable.includes(found.account.status)) throw unknown();
    const { account, connection } = found;
    // A grant from the OAuth app or target the connection has left is never used, nor sent
    // to the provider the connection uses now (not even to be revoked).
    if (held && (held.target !== connection.target || held.oauth_client_id !== connection.oauth_client_id)) {
      throw unknown('the connection changed since this consent; the user must connect again');
    }
    if (identifier !== account.identifier) {
      // Only a pending account loses its held grant at the provider: the one held for a working
      // (or since expired) account may be the provider's grant it already holds (Google keeps
      // one per user and app), so it is only forgotten.
      if (account.status === 'PENDING_VERIFICATION') {
        await this.deps.accounts.dropPendingGrant(account, connection, 'user_verification_mismatch', held?.tokens);
      }
      await this.deps.events.record(account, 'account.verification_failed', {
        reason: 'identifier_mismatch',
        attempted_provider_account: request.provider_account ?? undefined,
      });
      throw new AppError(
        'user_verification_mismatch',
        'the identifier does not match the connected account; the consent was discarded',
      );
    }
    // A grant of another provider account than the one a later consent bound is never used either.
    if (account.provider_subject && request.provider_subject !== account.provider_subject) {
      throw unknown(
        'the account was bound to another provider account since this consent; the user must connect again',
      );
    }
    const verified = await this.deps.accounts.confirmVerification(
      account,
      { subject: request.provider_subject ?? undefined, account: request.provider_account ?? undefined },
      held ? { connection, tokens: held.tokens } : undefined,
    );
    if (!verified) throw unknown();
    await this.deps.events.record(verified, 'account.verified', {
      provider_account: request.provider_account ?? undefined,
    });
    return { postUserVerifyRedirectUrl: `${this.deps.config.publicUrl}/connect/verified` };
  }

  /**
   * Claims the link for this consent; a link already spent or revoked refuses it. The
   * account's other unspent links (several when failures handed them out) go with it.
   */
  private async spendLink(linkId: string) {
    const spent = await this.deps.db
      .updateTable('auth_links')
      .set({ used_at: this.now() })
      .where('id', '=', linkId)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const link = await this.deps.db.selectFrom('auth_links').selectAll().where('id', '=', linkId).executeTakeFirst();
    if (!link) throw new AppError('auth_link_revoked', 'the authentication link of this sign-in was revoked');
    if (Number(spent.numUpdatedRows) === 0) {
      assertLinkUsable(link, Number.NEGATIVE_INFINITY);
      throw new AppError('auth_link_used', 'the authentication link of this sign-in was already used');
    }
    await this.deps.accounts.revokeLinks(link.connected_account_id);
    return link;
  }
}

function assertLinkUsable(
  link: { used_at: string | null; revoked_at: string | null; expires_at: string },
  now: number,
): void {
  if (link.revoked_at) {
    throw new AppError('auth_link_revoked', 'this authentication link was replaced by a newer one or revoked');
  }
  if (link.used_at) throw new AppError('auth_link_used', 'this authentication link was already used');
  if (Date.parse(link.expires_at) <= now)
    throw new AppError('auth_link_expired', 'this authentication link has expired');
}
