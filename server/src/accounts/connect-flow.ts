import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ConnectionRow, Connections } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { hashSecret, newId, newSecret, pkceChallenge } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OAuthClient, TokenSet } from '../oauth/client.js';
import type { ConnectedAccounts } from './connected-accounts.js';

export interface AuthLink {
  link: string;
  expiry: string;
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
}

/** The consent must finish within this long of opening the link. */
const AUTH_REQUEST_TTL_MS = 10 * 60_000;

const verifierContext = ENCRYPTED_COLUMNS.authRequestVerifier.context;

/**
 * The OAuth connect flow that activates a connected account: authentication links, then for
 * each opening a single-use `state` with a PKCE verifier, then the provider's redirect back.
 * Every failure is an AppError with a connect-flow code (auth_link_*, auth_state_*,
 * consent_denied, provider_error) that the connect pages translate.
 */
export class ConnectFlow {
  constructor(private readonly deps: Deps) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** A fresh authentication link for the account (created PENDING_AUTH when missing). */
  async authLink(connection: ConnectionRow, identifier: string): Promise<AuthLink & { account: AccountRow }> {
    const { account } = await this.deps.accounts.ensureFor(connection, identifier);
    const token = newSecret(24);
    const expiresAt = new Date(this.deps.clock.now() + this.deps.config.authLinkTtlSeconds * 1000).toISOString();
    await this.deps.db
      .insertInto('auth_links')
      .values({
        id: newId('al'),
        token_hash: hashSecret(token),
        connected_account_id: account.id,
        expires_at: expiresAt,
        created_at: this.now(),
      })
      .execute();
    return { link: `${this.deps.config.publicUrl}/connect/${token}`, expiry: expiresAt, account };
  }

  /**
   * Opening an authentication link: a new single-use `state` and PKCE verifier, then the
   * provider's authorize URL. A link may be opened again until it expires; each opening
   * starts a new authorization request.
   */
  async startAuthorization(linkToken: string, loginHint?: string): Promise<{ url: string }> {
    const link = await this.deps.db
      .selectFrom('auth_links')
      .selectAll()
      .where('token_hash', '=', hashSecret(linkToken))
      .executeTakeFirst();
    if (!link) throw new AppError('auth_link_invalid', 'this authentication link is not valid');
    if (Date.parse(link.expires_at) <= this.deps.clock.now()) {
      throw new AppError('auth_link_expired', 'this authentication link has expired');
    }
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
        expires_at: new Date(this.deps.clock.now() + AUTH_REQUEST_TTL_MS).toISOString(),
        used_at: null,
        created_at: this.now(),
      })
      .execute();
    const app = this.deps.connections.oauthApp(connection);
    return { url: this.deps.oauth.authorizeUrl(app, state, pkceChallenge(verifier), loginHint) };
  }

  /**
   * The provider's redirect back. The state is claimed atomically before the code is
   * exchanged, so a replayed or concurrent callback cannot use it twice. Whatever fails,
   * the account keeps its previous status and tokens.
   */
  async completeAuthorization(params: URLSearchParams): Promise<{ account: AccountRow; connection: ConnectionRow }> {
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

    const claimed = await this.deps.db
      .updateTable('auth_requests')
      .set({ used_at: this.now() })
      .where('id', '=', request.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw reused();

    const error = params.get('error');
    if (error === 'access_denied') throw new AppError('consent_denied', 'the user declined the request');
    if (error) throw new AppError('provider_error', `the provider answered the authorization with ${error}`);
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
      throw new AppError('provider_error', detail, { cause });
    }
    const email = await this.deps.oauth.accountEmail(app, tokens.accessToken);
    const account = await this.deps.accounts.activate(found.account, connection, tokens, email);
    return { account, connection };
  }
}
