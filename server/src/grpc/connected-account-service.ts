import type { ServiceImpl } from '@connectrpc/connect';
import type { ConnectedAccount } from '@switchboard/sdk';
import { type AccountRef, accountToApi } from '../accounts/connected-accounts.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import type { TokenSet } from '../oauth/client.js';
import { callerOf } from './auth.js';
import { given, pageOf, timestamp } from './convert.js';
import {
  type AuthorizationDetails,
  type ConnectedAccountService,
  ConnectorStatus,
  ConnectorType,
} from './gen/scalekit/v1/connected_accounts/connected_accounts_pb.js';

type AccountApi = Omit<ConnectedAccount, 'status'> & { status: string };

/** The REST shape of an account (accountToApi) as the messages' fields: statuses and types as enum numbers. */
function accountFields(account: AccountApi) {
  return {
    id: account.id,
    identifier: account.identifier,
    provider: account.provider,
    connector: account.connector,
    connectionId: account.connection_id,
    status:
      ConnectorStatus[account.status as keyof typeof ConnectorStatus] ?? ConnectorStatus.CONNECTION_STATUS_UNSPECIFIED,
    authorizationType: ConnectorType[account.authorization_type as keyof typeof ConnectorType] ?? ConnectorType.OAUTH,
    tokenExpiresAt: timestamp(account.token_expires_at),
    updatedAt: timestamp(account.updated_at),
    lastUsedAt: timestamp(account.last_used_at),
  };
}

function accountMessage(account: AccountApi) {
  const { scopes, domain } = account.authorization_details.oauth_token;
  return {
    ...accountFields(account),
    authorizationDetails: { details: { case: 'oauthToken' as const, value: { scopes, domain } } },
  };
}

interface RefInput {
  id?: string;
  connector?: string;
  identifier?: string;
}

/** As REST's toRef: an id, or a connection name and an identifier. */
function toRef(input: RefInput): AccountRef {
  const id = given(input.id);
  const connector = given(input.connector);
  const identifier = given(input.identifier);
  if (id) return { id };
  if (connector && identifier) return { connector, identifier };
  throw new AppError('validation_failed', 'give either id, or connector and identifier');
}

/** The tokens an app hands over itself (oauth_token); an empty oauth_token{} (the Node SDK's default) is none. */
function tokensOf(details: AuthorizationDetails | undefined): TokenSet | undefined {
  if (details?.details.case === 'staticAuth') {
    throw new AppError('validation_failed', 'authorization_details: only oauth_token is supported');
  }
  const token = details?.details.case === 'oauthToken' ? details.details.value : undefined;
  if (!token?.accessToken) {
    if (token?.refreshToken) throw new AppError('validation_failed', 'oauth_token.access_token: required');
    return undefined;
  }
  return {
    accessToken: token.accessToken,
    refreshToken: given(token.refreshToken),
    scopes: token.scopes.length ? token.scopes : undefined,
    tokenType: 'Bearer',
  };
}

/** ConnectedAccountService: the same domain calls as /api/v1/connected_accounts*. */
export function connectedAccountService(services: Services): ServiceImpl<typeof ConnectedAccountService> {
  const { accounts } = services;

  const getOne = async (req: RefInput) => {
    const { account, connection } = await accounts.get(toRef(req));
    return { connectedAccount: accountMessage(accountToApi(account, connection)) };
  };

  return {
    getConnectedAccountAuth: getOne,
    getConnectedAccountDetails: getOne,

    async createConnectedAccount(req) {
      const connector = given(req.connector);
      const identifier = given(req.identifier);
      if (!connector) throw new AppError('validation_failed', 'connector: give the connection name');
      if (!identifier || identifier.length > 256) {
        throw new AppError('validation_failed', 'identifier: give 1 to 256 characters');
      }
      const tokens = tokensOf(req.connectedAccount?.authorizationDetails);
      const { account, connection } = await accounts.create(connector, identifier, tokens);
      return { connectedAccount: accountMessage(accountToApi(account, connection)) };
    },

    async updateConnectedAccount(req) {
      const found = await accounts.get(toRef(req));
      const tokens = tokensOf(req.connectedAccount?.authorizationDetails);
      if (!tokens) return { connectedAccount: accountMessage(accountToApi(found.account, found.connection)) };
      const updated = await accounts.replaceTokens(found.account, found.connection, tokens);
      return { connectedAccount: accountMessage(accountToApi(updated, found.connection)) };
    },

    async deleteConnectedAccount(req) {
      await accounts.delete(toRef(req));
      return {};
    },

    async listConnectedAccounts(req) {
      const page = pageOf(req.pageSize, req.pageToken, 100, 50);
      const connector = given(req.connector);
      const { rows, total } = await accounts.list({
        connectionNames: [...req.connectionNames, ...(connector ? [connector] : [])],
        identifier: given(req.identifier),
        provider: given(req.provider),
        query: given(req.query),
        limit: page.limit,
        offset: page.offset,
      });
      return {
        connectedAccounts: rows.map((row) => {
          const { c_name, c_provider, ...account } = row;
          return accountFields(
            accountToApi(account, { id: account.connection_id, name: c_name, provider: c_provider }),
          );
        }),
        ...page.tokens(total),
      };
    },

    async getMagicLinkForConnectedAccount(req, context) {
      await services.rateLimiter.consume('magicLink', [`client:${callerOf(context).clientId}`]);
      let connection: Awaited<ReturnType<typeof accounts.get>>['connection'];
      let identifier: string;
      const id = given(req.id);
      if (id) {
        const found = await accounts.get({ id });
        connection = found.connection;
        identifier = found.account.identifier;
      } else {
        const connector = given(req.connector);
        const named = given(req.identifier);
        if (!connector || !named)
          throw new AppError('validation_failed', 'give either id, or connector and identifier');
        connection = await services.connections.getByName(connector);
        identifier = named;
      }
      const userVerifyUrl = given(req.userVerifyUrl);
      if (userVerifyUrl && !/^https?:\/\//.test(userVerifyUrl)) {
        throw new AppError('validation_failed', 'user_verify_url: give an http(s) URL');
      }
      const { link, expiry } = await services.connectFlow.authLink(connection, identifier, {
        userVerifyUrl,
        state: given(req.state),
        source: 'api',
      });
      return { link, expiry: timestamp(expiry) };
    },

    async verifyConnectedAccountUser(req) {
      if (!req.authRequestId) throw new AppError('validation_failed', 'auth_request_id: required');
      if (!req.identifier) throw new AppError('validation_failed', 'identifier: required');
      const { postUserVerifyRedirectUrl } = await services.connectFlow.verifyUser(req.authRequestId, req.identifier);
      return { postUserVerifyRedirectUrl };
    },
  };
}
