import { decodeJwt } from 'jose';
import type { Kysely } from 'kysely';
import type { ConnectFlow } from '../accounts/connect-flow.js';
import type { SigningKeys } from '../auth/signing-keys.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Connections } from '../connections/connections.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { hashSecret, newSecret, pkceChallenge, safeEqual } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import type { UsageMarks } from '../db/usage-marks.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type ConfigDetail, configServerUrl, type McpConfigs, verifyConfigToken } from '../mcp/configs.js';
import type { Catalog } from '../providers/index.js';
import type { McpOAuthClients, OAuthClientInfo } from './clients.js';
import type { McpConfigAccess } from './config-access.js';
import { AuthorizeRefusal, OAuthError, type OAuthErrorCode } from './oauth-error.js';
import { authorizeParams, paramOf, revokeParams, tokenParams, upstreamCallbackParams } from './oauth-params.js';
import type { OidcUpstream } from './oidc-upstream.js';
import { redirectUriMatches } from './redirect-uris.js';
import type { McpOAuthGrantsTable, McpOAuthRequestsTable } from './tables.js';

/** From the authorize request to the app's answer and the user's consent. */
const REQUEST_TTL_MS = 15 * 60_000;
/** An authorization code is exchanged right away by the client that asked for it. */
const CODE_TTL_MS = 60_000;
const MAX_CACHED_GRANTS = 50_000;

/** An authorize failure the client hears about at its redirect URI (RFC 6749 §4.1.2.1). */
export class AuthorizeRedirect extends Error {
  constructor(readonly location: string) {
    super('authorization error sent to the client');
    this.name = 'AuthorizeRedirect';
  }
}

/** Who presented what at the token or revocation endpoint (RFC 6749 §2.3.1). */
export interface ClientCredentials {
  clientId: string | undefined;
  secret: string | undefined;
  method: 'basic' | 'post' | 'none';
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

export interface AccessTokenClaims {
  identifier: string;
  configId: string;
  grantId: string;
  clientId: string;
}

export interface ConsentConnection {
  connectionName: string;
  provider: string;
  status: string;
  tools: string[];
}

export interface ConsentView {
  requestId: string;
  clientName: string;
  clientLogo: string | undefined;
  clientId: string;
  redirectHost: string;
  config: ConfigDetail;
  identifier: string;
  csrfToken: string;
  /** The secret of the consent URL, carried on by the page's forms. */
  consentSecret: string;
  connections: ConsentConnection[];
  ready: boolean;
  requireActiveAccounts: boolean;
}

/**
 * What a browser shows for a sign-in at the consent page: the cookie set where it started, and
 * the secret of the consent URL the identity step sent it to (then the page's forms).
 */
export interface BrowserProof {
  cookie: string | undefined;
  consentSecret: string | undefined;
}

/** A grant as the dashboard and the API show it: its row without the revoke reason. */
export type GrantSummary = Omit<McpOAuthGrantsTable, 'revoked_reason'>;

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  logger: Logger;
  signingKeys: SigningKeys;
  changes: ChangeFeed;
  clients: McpOAuthClients;
  access: McpConfigAccess;
  configs: McpConfigs;
  connections: Connections;
  connectFlow: ConnectFlow;
  catalog: Catalog;
  encryptor: Encryptor;
  upstream: OidcUpstream;
  usage: UsageMarks;
}

const upstreamVerifierContext = ENCRYPTED_COLUMNS.mcpOAuthUpstreamVerifier.context;

function oauthId(prefix: string): string {
  return `${prefix}_${newSecret(15)}`;
}

/**
 * Switchboard as the OAuth 2.1 authorization server of its config URLs, for MCP clients
 * (MCP authorization spec 2025-11-25): authorization code with PKCE S256 only, the resource
 * indicator required and bound into the access token's audience, rotating refresh tokens
 * whose replay revokes the whole grant, and revocation. Who the user is comes from the app
 * (hand-off to its login page, then its call with the identifier); what the user agrees to
 * is a Switchboard consent page that also connects the config's accounts.
 */
export class McpAuthorizationServer {
  /** grant id → revoked?, emptied by every revocation here and on other replicas. */
  private readonly grants: ScopedCache<string, boolean>;

  constructor(private readonly deps: Deps) {
    this.grants = deps.changes.cache(['clients'], MAX_CACHED_GRANTS);
  }

  get issuer(): string {
    return this.deps.config.publicUrl;
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** The config a resource indicator names, when it is one of our config URLs. */
  private configIdOf(resource: string): string | undefined {
    const prefix = `${this.deps.config.publicUrl}/mcp/c/`;
    if (!resource.startsWith(prefix)) return undefined;
    const id = resource.slice(prefix.length);
    return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : undefined;
  }

  /** RFC 8414 metadata. */
  metadata(): Record<string, unknown> {
    const base = this.deps.config.publicUrl;
    const { registration, clientMetadataDocuments } = this.deps.config.mcpOAuth;
    return {
      issuer: base,
      authorization_endpoint: `${base}/mcp-oauth/authorize`,
      token_endpoint: `${base}/mcp-oauth/token`,
      revocation_endpoint: `${base}/mcp-oauth/revoke`,
      ...(registration ? { registration_endpoint: `${base}/mcp-oauth/register` } : {}),
      jwks_uri: `${base}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      client_id_metadata_document_supported: clientMetadataDocuments,
      authorization_response_iss_parameter_supported: true,
    };
  }

  /**
   * The authorize request. Refusals the client cannot be told about safely (unknown client,
   * unregistered redirect URI) throw AuthorizeRefusal; the rest throw AuthorizeRedirect.
   * On success the browser goes to the app's login page with an `auth_request_id`, and the
   * returned secret binds the request to this browser (a cookie).
   */
  async authorize(params: URLSearchParams): Promise<{ loginUrl: string; browserSecret: string; requestId: string }> {
    const single = <K extends keyof typeof authorizeParams.shape & string>(name: K) => {
      const param = paramOf(params, authorizeParams, name);
      if (param.repeated) throw new AuthorizeRefusal('invalid_request', `${name} is given more than once`);
      return param;
    };
    const clientId = single('client_id').value;
    if (!clientId) throw new AuthorizeRefusal('invalid_request', 'client_id is required');
    let client: OAuthClientInfo;
    try {
      client = await this.deps.clients.resolve(clientId);
    } catch (error) {
      if (error instanceof OAuthError) throw new AuthorizeRefusal(error.code, error.description, { cause: error });
      throw error;
    }
    const redirectUri = single('redirect_uri').value;
    if (!redirectUri) throw new AuthorizeRefusal('invalid_request', 'redirect_uri is required');
    if (!redirectUriMatches(client.redirectUris, redirectUri)) {
      throw new AuthorizeRefusal('invalid_request', 'redirect_uri is not one of the client’s registered redirect URIs');
    }
    const stateParam = paramOf(params, authorizeParams, 'state');
    const state = stateParam.value;
    const fail = (code: OAuthErrorCode, description: string): never => {
      throw new AuthorizeRedirect(this.errorLocation(redirectUri, code, description, state));
    };
    if (stateParam.repeated) fail('invalid_request', 'state is given more than once');
    if (single('response_type').value === undefined) fail('unsupported_response_type', 'response_type must be code');
    const challengeParam = single('code_challenge');
    if (!challengeParam.given)
      fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method S256');
    if (single('code_challenge_method').value === undefined)
      fail('invalid_request', 'code_challenge_method must be S256');
    const challenge = challengeParam.value;
    if (challenge === undefined) fail('invalid_request', 'code_challenge is malformed');
    const resource = paramOf(params, authorizeParams, 'resource');
    if (resource.repeated || resource.value === undefined) {
      fail('invalid_target', 'send exactly one resource: the MCP server URL (RFC 8707)');
    }
    const configId = this.configIdOf(resource.value as string);
    const exists = configId
      ? await this.deps.db.selectFrom('mcp_configs').select('id').where('id', '=', configId).executeTakeFirst()
      : undefined;
    if (!configId || !exists) fail('invalid_target', 'resource is not an MCP server of this authorization server');
    const access = await this.deps.access.get(configId as string);
    if (!access.oauthEnabled) fail('invalid_target', 'this MCP server does not accept OAuth sign-in');
    const oidc = access.loginMode === 'oidc';
    if (oidc && !this.deps.upstream.settings) fail('server_error', 'no OpenID Connect issuer is configured');
    if (!oidc && !access.loginUrl) fail('server_error', 'no login page is configured for this MCP server');
    const scopeParam = single('scope');
    if (scopeParam.given && scopeParam.value === undefined) fail('invalid_scope', 'scope is too long');
    const scope = scopeParam.value;

    const requestId = oauthId('mar');
    const handoff = newSecret(32);
    const browserSecret = newSecret(32);
    const upstream = oidc ? { state: newSecret(32), nonce: newSecret(24), verifier: newSecret(48) } : undefined;
    const sealed = upstream
      ? this.deps.encryptor.encrypt(upstream.verifier, upstreamVerifierContext(requestId))
      : undefined;
    await this.deps.db
      .insertInto('mcp_oauth_requests')
      .values({
        id: requestId,
        handoff_hash: hashSecret(handoff),
        browser_hash: hashSecret(browserSecret),
        csrf_token: newSecret(24),
        client_id: client.clientId,
        client_name: client.name,
        client_logo: client.logoUri ?? null,
        redirect_uri: redirectUri,
        code_challenge: challenge as string,
        config_id: configId as string,
        scope: scope ?? null,
        state: state ?? null,
        identifier: null,
        consent_hash: null,
        expires_at: new Date(this.deps.clock.now() + REQUEST_TTL_MS).toISOString(),
        completed_at: null,
        created_at: this.now(),
        upstream_state_hash: upstream ? hashSecret(upstream.state) : null,
        upstream_nonce: upstream?.nonce ?? null,
        upstream_verifier_enc: sealed?.ciphertext ?? null,
        key_id: sealed?.keyId ?? null,
      })
      .execute();
    if (upstream) {
      let loginUrl = '';
      try {
        loginUrl = await this.deps.upstream.authorizeUrl({
          state: upstream.state,
          nonce: upstream.nonce,
          codeChallenge: pkceChallenge(upstream.verifier),
        });
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'OpenID Connect issuer unavailable');
        fail('temporarily_unavailable', 'the sign-in provider could not be reached');
      }
      return { loginUrl, browserSecret, requestId };
    }
    const login = new URL(access.loginUrl as string);
    login.searchParams.set('auth_request_id', handoff);
    login.searchParams.set('client_name', client.name);
    return { loginUrl: login.toString(), browserSecret, requestId };
  }

  private errorLocation(redirectUri: string, code: string, description: string, state: string | undefined): string {
    const url = new URL(redirectUri);
    url.searchParams.set('error', code);
    url.searchParams.set('error_description', description);
    if (state !== undefined) url.searchParams.set('state', state);
    url.searchParams.set('iss', this.issuer);
    return url.toString();
  }

  /**
   * The app's answer to the hand-off: the person signed in at its login page is `identifier`.
   * Spent by the first answer. Returns where the app sends the browser: the consent page, with
   * the secret that, with the sign-in cookie, lets that browser consent.
   */
  async verifyUser(authRequestId: string, identifier: string): Promise<{ postUserVerifyRedirectUrl: string }> {
    const request = await this.deps.db
      .selectFrom('mcp_oauth_requests')
      .selectAll()
      .where('handoff_hash', '=', hashSecret(authRequestId))
      .executeTakeFirst();
    if (!request) throw new AppError('user_verification_invalid', 'no MCP sign-in is pending for this auth_request_id');
    if (request.identifier !== null)
      throw new AppError('user_verification_used', 'this auth_request_id was already used');
    if (Date.parse(request.expires_at) <= this.deps.clock.now()) {
      throw new AppError(
        'user_verification_expired',
        'this auth_request_id has expired; sign in from the client again',
      );
    }
    const consentSecret = newSecret(32);
    const claimed = await this.deps.db
      .updateTable('mcp_oauth_requests')
      .set({ identifier, consent_hash: hashSecret(consentSecret) })
      .where('id', '=', request.id)
      .where('identifier', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      throw new AppError('user_verification_used', 'this auth_request_id was already used');
    }
    return { postUserVerifyRedirectUrl: this.consentUrl(request.id, consentSecret) };
  }

  /**
   * Where the identity step sends the browser. The login link can be opened in any browser, so
   * the cookie alone would let the browser that started a sign-in consent as whoever completed
   * it elsewhere (a fixation: start it, send the link to someone signed in at the app). The
   * secret reaches only the browser that completed the identity step; consent needs both.
   */
  private consentUrl(requestId: string, consentSecret: string): string {
    const url = new URL(`${this.deps.config.publicUrl}/mcp-oauth/consent/${requestId}`);
    url.searchParams.set('consent_secret', consentSecret);
    return url.toString();
  }

  /**
   * The OpenID Connect issuer's redirect back (OIDC upstream). The state is spent by the first
   * answer; the id_token's claim becomes the identifier. Returns where the browser goes: the
   * consent page (with its secret, as verifyUser), or the client's redirect URI with
   * access_denied when the user declined there.
   */
  async completeUpstream(params: URLSearchParams): Promise<string> {
    const state = paramOf(params, upstreamCallbackParams, 'state').value;
    const request = state
      ? await this.deps.db
          .selectFrom('mcp_oauth_requests')
          .selectAll()
          .where('upstream_state_hash', '=', hashSecret(state))
          .executeTakeFirst()
      : undefined;
    if (!request || !state) throw new AppError('auth_state_invalid', 'this sign-in is not known');
    if (request.identifier !== null || request.completed_at) {
      throw new AppError('auth_state_reused', 'this sign-in was already used');
    }
    if (Date.parse(request.expires_at) <= this.deps.clock.now()) {
      throw new AppError('auth_state_expired', 'this sign-in took too long');
    }
    const claimed = await this.deps.db
      .updateTable('mcp_oauth_requests')
      .set({ upstream_state_hash: null })
      .where('id', '=', request.id)
      .where('upstream_state_hash', '=', hashSecret(state))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw new AppError('auth_state_reused', 'this sign-in was already used');
    const declined = paramOf(params, upstreamCallbackParams, 'error');
    if (declined.value || declined.repeated) {
      await this.deps.db
        .updateTable('mcp_oauth_requests')
        .set({ completed_at: this.now() })
        .where('id', '=', request.id)
        .execute();
      const code = declined.value === 'access_denied' ? 'access_denied' : 'server_error';
      return this.errorLocation(request.redirect_uri, code, 'the sign-in did not complete', request.state ?? undefined);
    }
    const verifier = this.deps.encryptor.decrypt(
      request.upstream_verifier_enc ?? '',
      request.key_id ?? '',
      upstreamVerifierContext(request.id),
    );
    let identifier: string;
    try {
      identifier = await this.deps.upstream.identify(params, {
        state,
        nonce: request.upstream_nonce ?? '',
        verifier,
      });
    } catch (cause) {
      this.deps.logger.warn({ err: cause, requestId: request.id }, 'OpenID Connect sign-in failed');
      throw new AppError('provider_error', 'the sign-in provider’s answer could not be verified', { cause });
    }
    const consentSecret = newSecret(32);
    await this.deps.db
      .updateTable('mcp_oauth_requests')
      .set({ identifier, consent_hash: hashSecret(consentSecret) })
      .where('id', '=', request.id)
      .where('identifier', 'is', null)
      .execute();
    return this.consentUrl(request.id, consentSecret);
  }

  /**
   * A request that this browser started (the cookie), came back to from the identity step (the
   * consent URL's secret), and nobody finished yet.
   */
  private async openRequest(requestId: string, browser: BrowserProof): Promise<McpOAuthRequestsTable> {
    const request = await this.deps.db
      .selectFrom('mcp_oauth_requests')
      .selectAll()
      .where('id', '=', requestId)
      .executeTakeFirst();
    if (!request) throw new AppError('auth_state_invalid', 'this sign-in is not known in this browser');
    const started = !!browser.cookie && safeEqual(hashSecret(browser.cookie), request.browser_hash);
    const returned =
      !!browser.consentSecret &&
      request.consent_hash !== null &&
      safeEqual(hashSecret(browser.consentSecret), request.consent_hash);
    if (!started) {
      if (returned && !request.completed_at) {
        // Whoever completed the identity step is here, in another browser than the one that
        // started the sign-in: someone else's request, or a link passed on. It ends, so the
        // link is worth nothing to the starter either.
        await this.deps.db
          .updateTable('mcp_oauth_requests')
          .set({ completed_at: this.now() })
          .where('id', '=', request.id)
          .where('completed_at', 'is', null)
          .execute();
        throw new AppError(
          'auth_state_invalid',
          'this sign-in was started in another browser, so it is cancelled; if you did not start it from your MCP client, someone may have sent you its link',
        );
      }
      throw new AppError('auth_state_invalid', 'this sign-in is not known in this browser');
    }
    if (request.completed_at) throw new AppError('auth_state_reused', 'this sign-in was already completed');
    if (Date.parse(request.expires_at) <= this.deps.clock.now()) {
      throw new AppError('auth_state_expired', 'this sign-in took too long');
    }
    if (request.identifier === null) {
      throw new AppError('auth_state_invalid', 'the app has not said who is signing in yet');
    }
    if (!returned) {
      throw new AppError('auth_state_invalid', 'this browser did not come back from signing in; start again');
    }
    return request;
  }

  /** What the consent page shows: the client, the config's tools, and the user's connections. */
  async consentView(requestId: string, browser: BrowserProof): Promise<ConsentView> {
    const request = await this.openRequest(requestId, browser);
    const identifier = request.identifier as string;
    const [config, access] = await Promise.all([
      this.deps.configs.get(request.config_id),
      this.deps.access.get(request.config_id),
    ]);
    const ids = config.mappings.map((m) => m.connection_id);
    const accounts = ids.length
      ? await this.deps.db
          .selectFrom('connected_accounts')
          .select(['connection_id', 'status'])
          .where('connection_id', 'in', ids)
          .where('identifier', '=', identifier)
          .execute()
      : [];
    const status = new Map(accounts.map((a) => [a.connection_id, a.status]));
    const connections = config.mappings.map((m) => ({
      connectionName: m.connection_name,
      provider: m.provider,
      status: status.get(m.connection_id) ?? 'NOT_CONNECTED',
      tools: m.tools.length ? m.tools : (this.deps.catalog.providers.get(m.provider)?.tools.map((t) => t.name) ?? []),
    }));
    return {
      requestId,
      clientName: request.client_name,
      clientLogo: request.client_logo ?? undefined,
      clientId: request.client_id,
      redirectHost: new URL(request.redirect_uri).host || new URL(request.redirect_uri).protocol,
      config,
      identifier,
      csrfToken: request.csrf_token,
      consentSecret: browser.consentSecret as string,
      connections,
      ready: connections.every((c) => c.status === 'ACTIVE'),
      requireActiveAccounts: access.requireActiveAccounts,
    };
  }

  private checkCsrf(request: McpOAuthRequestsTable, csrf: string | undefined): void {
    if (!csrf || !safeEqual(csrf, request.csrf_token)) {
      throw new AppError('forbidden', 'the form is stale or was not sent by this page; reload it');
    }
  }

  /** A fresh authentication link for one of the config's connections, from the consent page. */
  async connectLink(
    requestId: string,
    browser: BrowserProof,
    csrf: string | undefined,
    connectionName: string,
  ): Promise<string> {
    const request = await this.openRequest(requestId, browser);
    this.checkCsrf(request, csrf);
    const config = await this.deps.configs.get(request.config_id);
    const mapping = config.mappings.find((m) => m.connection_name === connectionName);
    if (!mapping) throw new AppError('not_found', `${connectionName} is not a connection of this MCP server`);
    const connection = await this.deps.connections.get(mapping.connection_id);
    const { link } = await this.deps.connectFlow.authLink(connection, request.identifier as string, {
      source: 'mcp_auth_state',
    });
    return link;
  }

  /**
   * The user's decision. Allowing needs every connection ACTIVE unless the config lets the
   * client proceed (then tools answer with authentication links later). Returns the client's
   * redirect with a single-use code, or with access_denied.
   */
  async decide(requestId: string, browser: BrowserProof, csrf: string | undefined, allow: boolean): Promise<string> {
    const request = await this.openRequest(requestId, browser);
    this.checkCsrf(request, csrf);
    if (allow) {
      const view = await this.consentView(requestId, browser);
      if (view.requireActiveAccounts && !view.ready) {
        const missing = view.connections.filter((c) => c.status !== 'ACTIVE').map((c) => c.connectionName);
        throw new AppError('failed_precondition', `connect ${missing.join(' and ')} first`);
      }
    }
    const claimed = await this.deps.db
      .updateTable('mcp_oauth_requests')
      .set({ completed_at: this.now() })
      .where('id', '=', request.id)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0)
      throw new AppError('auth_state_reused', 'this sign-in was already completed');
    const state = request.state ?? undefined;
    if (!allow) return this.errorLocation(request.redirect_uri, 'access_denied', 'the user declined', state);
    const grantId = oauthId('mgr');
    const code = newSecret(32);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('mcp_oauth_grants')
        .values({
          id: grantId,
          client_id: request.client_id,
          client_name: request.client_name,
          client_logo: request.client_logo,
          config_id: request.config_id,
          identifier: request.identifier as string,
          scope: request.scope,
          created_at: this.now(),
          last_used_at: null,
          revoked_at: null,
          revoked_reason: null,
        })
        .execute();
      await trx
        .insertInto('mcp_oauth_codes')
        .values({
          code_hash: hashSecret(code),
          grant_id: grantId,
          redirect_uri: request.redirect_uri,
          code_challenge: request.code_challenge,
          expires_at: new Date(this.deps.clock.now() + CODE_TTL_MS).toISOString(),
          used_at: null,
        })
        .execute();
    });
    const url = new URL(request.redirect_uri);
    url.searchParams.set('code', code);
    if (state !== undefined) url.searchParams.set('state', state);
    url.searchParams.set('iss', this.issuer);
    return url.toString();
  }

  private async authenticatedClient(credentials: ClientCredentials): Promise<OAuthClientInfo> {
    if (!credentials.clientId) throw new OAuthError('invalid_client', 'client_id is required');
    const client = await this.deps.clients.resolve(credentials.clientId);
    this.deps.clients.authenticate(client, credentials);
    return client;
  }

  /** The token endpoint (RFC 6749 §3.2): authorization_code and refresh_token grants. */
  async token(form: URLSearchParams, credentials: ClientCredentials): Promise<TokenResponse> {
    const grantType = paramOf(form, tokenParams, 'grant_type').value;
    if (grantType === undefined) {
      throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
    }
    const client = await this.authenticatedClient(credentials);
    const resource = paramOf(form, tokenParams, 'resource');
    if (resource.repeated) throw new OAuthError('invalid_target', 'send at most one resource');
    return grantType === 'authorization_code'
      ? this.exchangeCode(form, client, resource.value)
      : this.refresh(form, client, resource.value);
  }

  private async exchangeCode(form: URLSearchParams, client: OAuthClientInfo, resource: string | undefined) {
    const code = paramOf(form, tokenParams, 'code').value;
    const verifier = paramOf(form, tokenParams, 'code_verifier').value;
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
    const row = await this.deps.db
      .selectFrom('mcp_oauth_codes as c')
      .innerJoin('mcp_oauth_grants as g', 'g.id', 'c.grant_id')
      .select(['c.code_hash', 'c.redirect_uri', 'c.code_challenge', 'c.expires_at', 'c.used_at', 'g.id as grant_id'])
      .select(['g.client_id', 'g.config_id', 'g.identifier', 'g.scope', 'g.revoked_at'])
      .where('c.code_hash', '=', hashSecret(code))
      .executeTakeFirst();
    const invalid = (why: string) => new OAuthError('invalid_grant', why);
    if (!row) throw invalid('the authorization code is not valid');
    if (row.used_at) {
      // RFC 6749 §4.1.2: a code used twice revokes what it granted.
      await this.revokeGrant(row.grant_id, 'code_reused');
      throw invalid('the authorization code was already used; its grant is revoked');
    }
    if (row.client_id !== client.clientId) throw invalid('the authorization code was issued to another client');
    if (Date.parse(row.expires_at) <= this.deps.clock.now()) throw invalid('the authorization code has expired');
    if (paramOf(form, tokenParams, 'redirect_uri').value !== row.redirect_uri) {
      throw invalid('redirect_uri differs from the authorization request’s');
    }
    if (!safeEqual(pkceChallenge(verifier), row.code_challenge)) throw invalid('code_verifier does not match');
    if (resource !== undefined && resource !== configServerUrl(this.deps.config.publicUrl, row.config_id)) {
      throw new OAuthError('invalid_target', 'resource differs from the one the user authorized');
    }
    const claimed = await this.deps.db
      .updateTable('mcp_oauth_codes')
      .set({ used_at: this.now() })
      .where('code_hash', '=', row.code_hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      await this.revokeGrant(row.grant_id, 'code_reused');
      throw invalid('the authorization code was already used; its grant is revoked');
    }
    if (row.revoked_at) throw invalid('the grant was revoked');
    return this.issue({ id: row.grant_id, ...row });
  }

  private async refresh(form: URLSearchParams, client: OAuthClientInfo, resource: string | undefined) {
    const token = paramOf(form, tokenParams, 'refresh_token').value;
    if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const row = await this.deps.db
      .selectFrom('mcp_oauth_refresh_tokens as r')
      .innerJoin('mcp_oauth_grants as g', 'g.id', 'r.grant_id')
      .select(['r.token_hash', 'r.expires_at', 'r.used_at', 'g.id', 'g.client_id', 'g.config_id', 'g.identifier'])
      .select(['g.scope', 'g.revoked_at'])
      .where('r.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    const invalid = (why: string) => new OAuthError('invalid_grant', why);
    if (!row || row.client_id !== client.clientId) throw invalid('the refresh token is not valid');
    if (row.revoked_at) throw invalid('the grant was revoked');
    const reused = async () => {
      // OAuth 2.1 §4.3.1: a spent refresh token presented again means one of two holders is
      // not the client; the whole family (the grant) ends.
      await this.revokeGrant(row.id, 'refresh_token_reused');
      this.deps.logger.warn({ grantId: row.id, clientId: row.client_id }, 'refresh token reused; grant revoked');
      return invalid('the refresh token was already used; the grant is revoked');
    };
    if (row.used_at) throw await reused();
    if (Date.parse(row.expires_at) <= this.deps.clock.now()) throw invalid('the refresh token has expired');
    if (resource !== undefined && resource !== configServerUrl(this.deps.config.publicUrl, row.config_id)) {
      throw new OAuthError('invalid_target', 'resource differs from the one the user authorized');
    }
    const claimed = await this.deps.db
      .updateTable('mcp_oauth_refresh_tokens')
      .set({ used_at: this.now() })
      .where('token_hash', '=', row.token_hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw await reused();
    return this.issue(row);
  }

  private async issue(grant: {
    id: string;
    client_id: string;
    config_id: string;
    identifier: string;
    scope: string | null;
  }): Promise<TokenResponse> {
    const { publicUrl, mcpOAuth } = this.deps.config;
    const accessToken = await this.deps.signingKeys.sign(
      { sub: grant.identifier, client_id: grant.client_id, mcp_cfg: grant.config_id, gid: grant.id },
      {
        audience: configServerUrl(publicUrl, grant.config_id),
        issuer: publicUrl,
        expiresInSeconds: mcpOAuth.accessTokenTtlSeconds,
      },
    );
    const refreshToken = `mcprt_${newSecret(32)}`;
    await this.deps.db
      .insertInto('mcp_oauth_refresh_tokens')
      .values({
        token_hash: hashSecret(refreshToken),
        grant_id: grant.id,
        expires_at: new Date(this.deps.clock.now() + mcpOAuth.refreshTokenTtlSeconds * 1000).toISOString(),
        used_at: null,
        created_at: this.now(),
      })
      .execute();
    await this.deps.db
      .updateTable('mcp_oauth_grants')
      .set({ last_used_at: this.now() })
      .where('id', '=', grant.id)
      .execute();
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: mcpOAuth.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      ...(grant.scope ? { scope: grant.scope } : {}),
    };
  }

  /**
   * RFC 7009: a refresh or access token of this client ends its whole grant. Unknown tokens
   * and tokens of other clients are answered the same way, with nothing done.
   */
  async revokeToken(form: URLSearchParams, credentials: ClientCredentials): Promise<void> {
    const client = await this.authenticatedClient(credentials);
    const token = paramOf(form, revokeParams, 'token').value;
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    const refresh = await this.deps.db
      .selectFrom('mcp_oauth_refresh_tokens as r')
      .innerJoin('mcp_oauth_grants as g', 'g.id', 'r.grant_id')
      .select(['g.id', 'g.client_id'])
      .where('r.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    if (refresh) {
      if (refresh.client_id === client.clientId) await this.revokeGrant(refresh.id, 'revoked_by_client');
      return;
    }
    let configId: unknown;
    try {
      configId = decodeJwt(token).mcp_cfg;
    } catch {
      return;
    }
    if (typeof configId !== 'string') return;
    const claims = await this.verifyAccessToken(token, configId);
    if (claims && claims.clientId === client.clientId) await this.revokeGrant(claims.grantId, 'revoked_by_client');
  }

  /** Ends a grant: its refresh tokens at once, its access tokens on every replica within a poll. */
  async revokeGrant(grantId: string, reason: string): Promise<boolean> {
    const result = await this.deps.changes.write(['clients'], (trx) =>
      trx
        .updateTable('mcp_oauth_grants')
        .set({ revoked_at: this.now(), revoked_reason: reason })
        .where('id', '=', grantId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  /** The claims of an access token presented at config `configId`'s URL, or undefined. */
  async verifyAccessToken(token: string, configId: string): Promise<AccessTokenClaims | undefined> {
    const payload = await verifyConfigToken(this.deps.signingKeys, this.deps.config.publicUrl, token, configId);
    if (!payload) return undefined;
    const { sub, gid, client_id: clientId, mcp_cfg: cfg } = payload;
    if (typeof sub !== 'string' || !sub || typeof gid !== 'string' || typeof clientId !== 'string') return undefined;
    if (cfg !== configId) return undefined;
    if (await this.grantRevoked(gid)) return undefined;
    // The grant's "last used" for the dashboard: batched with the other marks, a write a minute at most.
    this.deps.usage.mark('mcp_oauth_grants', gid);
    return { identifier: sub, configId, grantId: gid, clientId };
  }

  private async grantRevoked(grantId: string): Promise<boolean> {
    await this.deps.changes.sync();
    const cached = this.grants.get(grantId);
    if (cached !== undefined) return cached;
    const generation = this.grants.generation;
    const row = await this.deps.db
      .selectFrom('mcp_oauth_grants')
      .select('revoked_at')
      .where('id', '=', grantId)
      .executeTakeFirst();
    const revoked = !row || row.revoked_at !== null;
    this.grants.set(grantId, revoked, generation);
    return revoked;
  }

  /** Grants, newest first: of one user, optionally at one config; revoked ones only when asked. */
  async listGrants(filter: {
    identifier?: string;
    configId?: string;
    includeRevoked?: boolean;
  }): Promise<GrantSummary[]> {
    await this.deps.usage.flush();
    let query = this.deps.db.selectFrom('mcp_oauth_grants').selectAll().orderBy('created_at', 'desc').limit(500);
    if (filter.identifier !== undefined) query = query.where('identifier', '=', filter.identifier);
    if (filter.configId !== undefined) query = query.where('config_id', '=', filter.configId);
    if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
    const rows = await query.execute();
    return rows.map(({ revoked_reason: _reason, ...row }) => row);
  }

  async getGrant(grantId: string): Promise<GrantSummary> {
    await this.deps.usage.flush();
    const row = await this.deps.db
      .selectFrom('mcp_oauth_grants')
      .selectAll()
      .where('id', '=', grantId)
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `no grant ${grantId}`);
    const { revoked_reason: _reason, ...grant } = row;
    return grant;
  }
}
