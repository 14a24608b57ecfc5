import type { Transport } from './transport.js';
import type {
  AccountEventList,
  AccountEventType,
  AccountRef,
  AuthorizationLink,
  AuthorizationLinkOptions,
  ConnectedAccount,
  ConnectedAccountList,
  CreateConnectedAccountInput,
  ListConnectedAccountsParams,
  SearchConnectedAccountsParams,
  UpdateConnectedAccountInput,
  VerifyUserInput,
  VerifyUserResult,
} from './types.js';

type Answer = { connected_account: ConnectedAccount };

function listQuery(params: ListConnectedAccountsParams & { query?: string }) {
  const { connection_names, ...rest } = params;
  return { ...rest, connection_names: connection_names?.length ? connection_names.join(',') : undefined };
}

/** Connected accounts: one user's grant on one connection, identified by (connection name, user identifier). */
export class ConnectedAccounts {
  constructor(private readonly http: Transport) {}

  /** Lists accounts, filtered by connection, user identifier, provider or status; tokens are never included. */
  list(params: ListConnectedAccountsParams = {}): Promise<ConnectedAccountList> {
    return this.http.request<ConnectedAccountList>({
      method: 'GET',
      path: '/api/v1/connected_accounts',
      query: listQuery(params),
      idempotent: true,
    });
  }

  /** Finds accounts whose identifier or connection matches `query` (at least 3 characters). */
  search(params: SearchConnectedAccountsParams): Promise<ConnectedAccountList> {
    return this.http.request<ConnectedAccountList>({
      method: 'GET',
      path: '/api/v1/connected_accounts:search',
      query: listQuery(params),
      idempotent: true,
    });
  }

  /**
   * Creates the account of `identifier` on a connection, PENDING_AUTH until the user consents,
   * or ACTIVE right away when tokens are given.
   * @throws SwitchboardError `already_exists`, `not_found` (no such connection).
   */
  async create(input: CreateConnectedAccountInput): Promise<ConnectedAccount> {
    const answer = await this.http.request<Answer>({ method: 'POST', path: '/api/v1/connected_accounts', body: input });
    return answer.connected_account;
  }

  /** Gets one account by id, or by connection name and user identifier. @throws SwitchboardError `not_found`. */
  async get(ref: AccountRef): Promise<ConnectedAccount> {
    const answer = await this.http.request<Answer>({
      method: 'GET',
      path: '/api/v1/connected_accounts/details',
      query: { ...ref },
      idempotent: true,
    });
    return answer.connected_account;
  }

  /** Replaces the stored tokens of an account (e.g. tokens obtained by your own OAuth flow). */
  async update(input: UpdateConnectedAccountInput): Promise<ConnectedAccount> {
    const answer = await this.http.request<Answer>({
      method: 'PUT',
      path: '/api/v1/connected_accounts',
      body: input,
      idempotent: true,
    });
    return answer.connected_account;
  }

  /** Deletes an account and its tokens (revoking them at the provider when it can). */
  async delete(ref: AccountRef): Promise<void> {
    await this.http.request({ method: 'POST', path: '/api/v1/connected_accounts:delete', body: ref, idempotent: true });
  }

  /** Revokes and forgets the tokens but keeps the account, now DISCONNECTED, so it can connect again. */
  async disconnect(ref: AccountRef): Promise<ConnectedAccount> {
    const answer = await this.http.request<Answer>({
      method: 'POST',
      path: '/api/v1/connected_accounts:disconnect',
      body: ref,
      idempotent: true,
    });
    return answer.connected_account;
  }

  /**
   * A link for the user to open: it leads to the provider's consent screen and back, after
   * which the account is ACTIVE. Creates the account (PENDING_AUTH) if it does not exist yet.
   */
  getAuthorizationLink(ref: AccountRef, options: AuthorizationLinkOptions = {}): Promise<AuthorizationLink> {
    // Not idempotent: every link asked for here revokes the account's older ones.
    return this.http.request<AuthorizationLink>({
      method: 'POST',
      path: '/api/v1/connected_accounts/magic_link',
      body: { ...ref, ...options },
    });
  }

  /**
   * User verification (reference: VerifyConnectedAccountUser): confirms that the person who
   * consented is `identifier`, which activates the account. Throws `user_verification_mismatch`,
   * `user_verification_used`, `user_verification_expired` or `user_verification_invalid`.
   */
  verifyUser(input: VerifyUserInput): Promise<VerifyUserResult> {
    return this.http.request<VerifyUserResult>({
      method: 'POST',
      path: '/api/v1/connected_accounts/user/verify',
      body: input,
    });
  }

  /** The account's lifecycle history, oldest first. */
  listEvents(
    id: string,
    params: { type?: AccountEventType; page_size?: number; page_token?: string } = {},
  ): Promise<AccountEventList> {
    return this.http.request<AccountEventList>({
      method: 'GET',
      path: `/api/v1/connected_accounts/${encodeURIComponent(id)}/events`,
      query: params,
    });
  }
}
