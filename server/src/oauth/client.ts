import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError, ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Catalog } from '../providers/index.js';
import type { ProviderDefinition, ProviderOAuth, TokenResponse } from '../providers/types.js';
import { answerTooLarge, boundedFetch, MAX_AUTH_ANSWER_BYTES } from './bounded-fetch.js';

/** A token endpoint's successful answer. */
type TokenGrant = Extract<TokenResponse, { ok: true }>;

/** What the OAuth engine needs to know about a connection (an OAuth app at a provider). */
export interface OAuthApp {
  provider: string;
  target: 'sandbox' | 'provider';
  clientId: string;
  /** Decrypted only for the duration of a token call. */
  clientSecret: () => string | undefined;
  scopes: string[];
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Absolute expiry in ms since the epoch, when the provider said. */
  expiresAt?: number;
  /** Scopes the provider says it granted; undefined when it did not say. */
  scopes?: string[];
  tokenType: string;
}

/** The provider refused the grant (invalid_grant and friends): the account needs a new consent. */
export class GrantRevokedError extends ProviderError {
  constructor(
    readonly oauthError: string,
    description: string | undefined,
  ) {
    super('account_expired', `the provider refused the grant (${oauthError}${description ? `: ${description}` : ''})`);
    this.name = 'GrantRevokedError';
  }
}

interface Deps {
  config: Config;
  catalog: Catalog;
  fetch: typeof fetch;
  logger: Logger;
  clock: { now(): number };
}

/**
 * The one OAuth 2.0 client engine for every provider (authorization code with PKCE,
 * refresh, revoke, userinfo), built on oauth4webapi. A provider contributes its endpoints
 * and, only where it departs from the RFCs, a hook (ProviderOAuth). A connection that
 * targets the sandbox keeps the same paths on the sandbox's origin.
 */
export class OAuthClient {
  private readonly deps: Deps;

  constructor(deps: Deps) {
    // Token, userinfo and revocation answers are read at most MAX_AUTH_ANSWER_BYTES each.
    this.deps = { ...deps, fetch: boundedFetch(deps.fetch, MAX_AUTH_ANSWER_BYTES) };
  }

  redirectUri(): string {
    return `${this.deps.config.publicUrl}/oauth/callback`;
  }

  provider(app: OAuthApp): ProviderDefinition {
    const provider = this.deps.catalog.providers.get(app.provider);
    if (!provider) throw new ProviderError('provider_error', `unknown provider ${app.provider}`);
    return provider;
  }

  /** Rewrites a provider URL to the sandbox when the connection targets it. */
  resolveUrl(app: OAuthApp, url: string): string {
    if (app.target !== 'sandbox') return url;
    const provider = this.provider(app);
    if (!provider.sandbox) {
      throw new AppError(
        'failed_precondition',
        `the sandbox does not emulate ${provider.displayName}: point the connection at the provider`,
      );
    }
    const parsed = new URL(url);
    return `${this.deps.config.sandbox.url}${parsed.pathname}${parsed.search}`;
  }

  private endpoints(app: OAuthApp): ProviderOAuth {
    return this.provider(app).oauth;
  }

  private server(app: OAuthApp): oauth.AuthorizationServer {
    const e = this.endpoints(app);
    return {
      issuer: new URL(this.resolveUrl(app, e.authorizationEndpoint)).origin,
      authorization_endpoint: this.resolveUrl(app, e.authorizationEndpoint),
      token_endpoint: this.resolveUrl(app, e.tokenEndpoint),
      ...(e.revocationEndpoint ? { revocation_endpoint: this.resolveUrl(app, e.revocationEndpoint) } : {}),
      ...(e.userinfoEndpoint ? { userinfo_endpoint: this.resolveUrl(app, e.userinfoEndpoint) } : {}),
    };
  }

  private options(app: OAuthApp) {
    return {
      [oauth.customFetch]: this.deps.fetch,
      // The sandbox runs on plain HTTP on loopback; real providers always use HTTPS.
      [oauth.allowInsecureRequests]: app.target === 'sandbox',
      signal: () => AbortSignal.timeout(this.deps.config.providerTimeoutMs),
    };
  }

  private clientAuth(app: OAuthApp): oauth.ClientAuth {
    const secret = app.clientSecret();
    return secret ? oauth.ClientSecretPost(secret) : oauth.None();
  }

  /** Every scope the consent asks for: the connection's, or the provider's defaults, plus identity. */
  requestedScopes(app: OAuthApp): string[] {
    const provider = this.provider(app);
    const base = app.scopes.length ? app.scopes : provider.defaultScopes;
    return [...new Set([...base, ...(provider.oauth.identityScopes ?? [])])];
  }

  authorizeUrl(app: OAuthApp, state: string, codeChallenge: string, loginHint?: string): string {
    const e = this.endpoints(app);
    const url = new URL(this.resolveUrl(app, e.authorizationEndpoint));
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', app.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri());
    url.searchParams.set(e.scopeParameter ?? 'scope', this.requestedScopes(app).join(e.scopeSeparator ?? ' '));
    url.searchParams.set('state', state);
    if (e.pkce !== false) {
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    for (const [key, value] of Object.entries(e.authorizeParams ?? {})) url.searchParams.set(key, value);
    if (loginHint) url.searchParams.set('login_hint', loginHint);
    return url.toString();
  }

  async exchangeCode(app: OAuthApp, callbackParams: URLSearchParams, codeVerifier: string): Promise<TokenSet> {
    const as = this.server(app);
    const client: oauth.Client = { client_id: app.clientId };
    const e = this.endpoints(app);
    return this.tokenCall(app, async () => {
      // Switchboard checked `state` itself (hashed, single use) before getting here.
      const validated = oauth.validateAuthResponse(as, client, callbackParams, oauth.skipStateCheck);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        this.clientAuth(app),
        validated,
        this.redirectUri(),
        e.pkce === false ? oauth.nopkce : codeVerifier,
        this.options(app),
      );
      return this.readTokenResponse(e, response, () => oauth.processAuthorizationCodeResponse(as, client, response));
    });
  }

  async refresh(app: OAuthApp, refreshToken: string): Promise<TokenSet> {
    const as = this.server(app);
    const client: oauth.Client = { client_id: app.clientId };
    const e = this.endpoints(app);
    return this.tokenCall(app, async () => {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        this.clientAuth(app),
        refreshToken,
        this.options(app),
      );
      return this.readTokenResponse(e, response, () => oauth.processRefreshTokenResponse(as, client, response));
    });
  }

  /** Revokes a token at the provider; failures are logged, not thrown (the grant may be gone already). */
  async revoke(app: OAuthApp, token: string): Promise<boolean> {
    const as = this.server(app);
    if (!as.revocation_endpoint) return false;
    const { revoke } = this.endpoints(app);
    try {
      if (revoke) {
        await revoke({
          endpoint: as.revocation_endpoint,
          token,
          clientId: app.clientId,
          clientSecret: app.clientSecret(),
          fetch: this.deps.fetch,
          signal: AbortSignal.timeout(this.deps.config.providerTimeoutMs),
        });
        return true;
      }
      const response = await oauth.revocationRequest(
        as,
        { client_id: app.clientId },
        this.clientAuth(app),
        token,
        this.options(app),
      );
      await oauth.processRevocationResponse(response);
      return true;
    } catch (error) {
      this.deps.logger.warn({ provider: app.provider, reason: describe(error) }, 'token revocation failed');
      return false;
    }
  }

  /** The provider account's email (or subject) behind an access token; undefined when unavailable. */
  async accountEmail(app: OAuthApp, accessToken: string): Promise<string | undefined> {
    return (await this.accountIdentity(app, accessToken)).account;
  }

  /**
   * Who is behind an access token: `account`, what people read (the provider's identity hook,
   * by default the email), and `subject`, what never changes for that account (OpenID `sub`,
   * else the hook's answer). Both undefined when the provider has no userinfo or it failed.
   */
  async accountIdentity(app: OAuthApp, accessToken: string): Promise<{ account?: string; subject?: string }> {
    const as = this.server(app);
    if (!as.userinfo_endpoint) return {};
    const readIdentity = this.endpoints(app).readIdentity ?? readOidcIdentity;
    try {
      const response = await this.deps.fetch(as.userinfo_endpoint, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.deps.config.providerTimeoutMs),
      });
      if (!response.ok) return {};
      const body: unknown = await response.json();
      const account = readIdentity(body);
      const oidc = oidcUserinfo.safeParse(body);
      const subject = (oidc.success ? oidc.data.sub : undefined) ?? account;
      return { account, subject: subject ?? undefined };
    } catch {
      return {};
    }
  }

  /**
   * Reads a token endpoint's answer: through the provider's hook when it has one, else with
   * oauth4webapi's strict RFC 6749 reading (`strict`).
   */
  private async readTokenResponse(
    e: ProviderOAuth,
    response: Response,
    strict: () => Promise<oauth.TokenEndpointResponse>,
  ): Promise<TokenGrant> {
    if (!e.readTokenResponse) {
      const result = await strict();
      return {
        ok: true,
        accessToken: result.access_token,
        tokenType: result.token_type,
        refreshToken: result.refresh_token,
        expiresIn: result.expires_in,
        scope: result.scope,
      };
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    let read: TokenResponse;
    try {
      read = e.readTokenResponse({ status: response.status, body });
    } catch (cause) {
      throw new ProviderError('provider_error', "the provider's token response was not valid", {
        cause,
        providerStatus: response.status,
      });
    }
    if (!read.ok) throw refusal(read.error, read.description, response.status);
    return read;
  }

  private async tokenCall(app: OAuthApp, call: () => Promise<TokenGrant>): Promise<TokenSet> {
    let result: TokenGrant;
    try {
      result = await call();
    } catch (error) {
      if (error instanceof AppError) throw error;
      // oauth4webapi wraps a body that could not be read; one cut off at the limit says so.
      const large = answerTooLarge(error);
      if (large) throw large;
      if (error instanceof oauth.ResponseBodyError) {
        throw refusal(error.error, error.error_description, error.status);
      }
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new ProviderError('provider_timeout', "the provider's token endpoint did not answer in time");
      }
      if (error instanceof oauth.OperationProcessingError) {
        // oauth4webapi reads a refusal only from a 4xx; a 5xx (the Response is the cause) is an outage.
        const status = error.cause instanceof Response ? error.cause.status : undefined;
        if (status !== undefined && status >= 500) {
          throw new ProviderError('provider_unavailable', `the provider's token endpoint answered HTTP ${status}`, {
            providerStatus: status,
          });
        }
        throw new ProviderError('provider_error', `the provider's token response was not valid: ${error.message}`);
      }
      this.deps.logger.warn({ reason: describe(error) }, 'token endpoint call failed');
      throw new ProviderError('provider_unavailable', "the provider's token endpoint could not be reached", {
        cause: error,
      });
    }
    const separator = this.endpoints(app).scopeSeparator;
    return {
      accessToken: result.accessToken,
      refreshToken: result.refreshToken,
      expiresAt: typeof result.expiresIn === 'number' ? this.deps.clock.now() + result.expiresIn * 1000 : undefined,
      scopes: typeof result.scope === 'string' ? splitScopes(result.scope, separator) : undefined,
      tokenType: result.tokenType,
    };
  }
}

/** An RFC 6749 §5.2 refusal from the token endpoint, as our error. */
function refusal(error: string, description: string | undefined, status: number): ProviderError {
  if (error === 'invalid_grant' || error === 'unauthorized_client') return new GrantRevokedError(error, description);
  if (error === 'invalid_client') {
    return new ProviderError('provider_error', 'the provider rejected the OAuth app credentials (invalid_client)', {
      providerStatus: status,
    });
  }
  return new ProviderError(
    status >= 500 ? 'provider_unavailable' : 'provider_error',
    `the provider's token endpoint answered ${error}`,
    { providerStatus: status },
  );
}

function splitScopes(scope: string, separator: string | undefined): string[] {
  const parts = separator === undefined ? scope.split(/\s+/) : scope.split(separator).map((part) => part.trim());
  return parts.filter(Boolean);
}

const oidcUserinfo = z.object({ email: z.string().nullish(), sub: z.string().nullish() });

/** OpenID Connect userinfo: the `email` claim when granted, else the subject. */
function readOidcIdentity(userinfo: unknown): string | undefined {
  const parsed = oidcUserinfo.safeParse(userinfo);
  return parsed.success ? (parsed.data.email ?? parsed.data.sub ?? undefined) : undefined;
}

function describe(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.status} ${error.error}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown';
}
