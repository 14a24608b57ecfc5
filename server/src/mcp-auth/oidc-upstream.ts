import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { boundedFetch, MAX_AUTH_ANSWER_BYTES } from '../oauth/bounded-fetch.js';
import { OAuthError } from './oauth-error.js';

/** Discovery and keys are fetched again after this. */
const DISCOVERY_CACHE_MS = 10 * 60_000;
const UPSTREAM_TIMEOUT_MS = 10_000;
/**
 * An id_token signed by a key the cached JWKS lacks (the issuer rolled its keys over) has the
 * keys fetched again at once, but at most this often, so such tokens never make every sign-in
 * a fetch at the issuer.
 */
const KEYS_REFETCH_MS = 30_000;

type OidcSettings = NonNullable<Config['mcpOAuth']['oidc']>;

/**
 * The app's OpenID Connect issuer as the place users sign in (OIDC upstream): discovery, the
 * authorization code flow with PKCE and a nonce, and an id_token whose signature is checked
 * against the issuer's JWKS (not only trusted for coming over TLS), then `claim` → identifier.
 * oauth4webapi does the protocol checks (state, iss, aud, exp, nonce).
 */
export class OidcUpstream {
  private discovered: { server: oauth.AuthorizationServer; keys: JSONWebKeySet; until: number } | undefined;
  /** When an unknown key last had the keys fetched again (clock ms). */
  private keysRefetchedAt = Number.NEGATIVE_INFINITY;

  private readonly deps: { config: Config; clock: Clock; fetch: typeof fetch };

  constructor(deps: { config: Config; clock: Clock; fetch: typeof fetch }) {
    // Discovery, key set and token answers are read at most MAX_AUTH_ANSWER_BYTES each.
    this.deps = { ...deps, fetch: boundedFetch(deps.fetch, MAX_AUTH_ANSWER_BYTES) };
  }

  get settings(): OidcSettings | undefined {
    return this.deps.config.mcpOAuth.oidc;
  }

  get redirectUri(): string {
    return `${this.deps.config.publicUrl}/mcp-oauth/oidc/callback`;
  }

  private options(issuer: string) {
    return {
      [oauth.customFetch]: this.deps.fetch,
      // Plain http only for an issuer on this machine (the sandbox); real issuers use https.
      [oauth.allowInsecureRequests]: new URL(issuer).protocol === 'http:',
      signal: () => AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    };
  }

  private async discover(settings: OidcSettings) {
    const now = this.deps.clock.now();
    if (this.discovered && this.discovered.until > now) return this.discovered;
    const issuer = new URL(settings.issuer);
    const options = this.options(settings.issuer);
    const server = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }),
    );
    if (!server.jwks_uri) throw new Error('the OpenID Connect issuer publishes no jwks_uri');
    const response = await this.deps.fetch(server.jwks_uri, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`the issuer's JWKS answered HTTP ${response.status}`);
    const keys = (await response.json()) as JSONWebKeySet;
    this.discovered = { server, keys, until: now + DISCOVERY_CACHE_MS };
    return this.discovered;
  }

  /** Where the browser signs in at the issuer. */
  async authorizeUrl(input: { state: string; nonce: string; codeChallenge: string }): Promise<string> {
    const settings = this.settings;
    if (!settings) throw new OAuthError('server_error', 'no OpenID Connect issuer is configured');
    let server: oauth.AuthorizationServer;
    try {
      ({ server } = await this.discover(settings));
    } catch (cause) {
      throw new OAuthError('server_error', 'the OpenID Connect issuer could not be reached', { cause });
    }
    if (!server.authorization_endpoint)
      throw new OAuthError('server_error', 'the issuer has no authorization endpoint');
    const url = new URL(server.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: settings.clientId,
      redirect_uri: this.redirectUri,
      scope: settings.claim === 'email' ? 'openid email' : 'openid',
      state: input.state,
      nonce: input.nonce,
      code_challenge: input.codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  }

  /** The issuer's redirect back: the identifier of who signed in, or an AppError-free failure description. */
  async identify(
    params: URLSearchParams,
    expected: { state: string; nonce: string; verifier: string },
  ): Promise<string> {
    const settings = this.settings;
    if (!settings) throw new Error('no OpenID Connect issuer is configured');
    const { server } = await this.discover(settings);
    const client: oauth.Client = { client_id: settings.clientId };
    const auth = settings.clientSecret ? oauth.ClientSecretPost(settings.clientSecret) : oauth.None();
    const validated = oauth.validateAuthResponse(server, client, params, expected.state);
    const options = this.options(settings.issuer);
    const response = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      auth,
      validated,
      this.redirectUri,
      expected.verifier,
      options,
    );
    const result = await oauth.processAuthorizationCodeResponse(server, client, response, {
      expectedNonce: expected.nonce,
      requireIdToken: true,
    });
    const payload = await this.verifiedIdToken(result.id_token as string, settings);
    const value = payload[settings.claim];
    if (typeof value !== 'string' || !value) throw new Error(`the id_token carries no ${settings.claim}`);
    if (settings.claim === 'email' && payload.email_verified !== true) throw new Error('the email is not verified');
    return value;
  }

  /** The id_token's claims once its signature, issuer, audience and times are checked. */
  private async verifiedIdToken(idToken: string, settings: OidcSettings) {
    const verify = async ({ server, keys }: { server: oauth.AuthorizationServer; keys: JSONWebKeySet }) =>
      (
        await jwtVerify(idToken, createLocalJWKSet(keys), {
          issuer: server.issuer,
          audience: settings.clientId,
          currentDate: new Date(this.deps.clock.now()),
        })
      ).payload;
    try {
      return await verify(await this.discover(settings));
    } catch (error) {
      const now = this.deps.clock.now();
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || now - this.keysRefetchedAt < KEYS_REFETCH_MS) throw error;
      this.keysRefetchedAt = now;
      this.discovered = undefined;
      return verify(await this.discover(settings));
    }
  }
}
