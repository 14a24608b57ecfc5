import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { SandboxPrincipal, SandboxUser } from '../context.js';

export interface SandboxClient {
  clientId: string;
  /** When given, the token endpoint demands it from the first call on. */
  clientSecret?: string;
  /** When given, /authorize accepts only these redirect URIs (Google's redirect_uri_mismatch). */
  redirectUris?: string[];
}

/**
 * The OAuth client Switchboard uses for a sandbox connection that names no OAuth app of its
 * own. Its secret is fixed and known to every sandbox, so nobody can pin another one for it
 * by calling the token endpoint first (any other client id keeps its first secret).
 */
export const BUILT_IN_CLIENT = { clientId: 'switchboard-sandbox-client', clientSecret: 'sandbox-secret' } as const;

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  offline: boolean;
  includeGrantedScopes: boolean;
  loginHint: string | undefined;
  nonce: string | undefined;
}

interface AuthorizationCode extends AuthorizationRequest {
  user: SandboxUser;
  expiresAt: number;
  used: boolean;
}

interface Grant {
  id: string;
  user: SandboxUser;
  clientId: string;
  scopes: Set<string>;
  revoked: boolean;
}

interface AccessTokenRecord {
  grantId: string;
  scopes: string[];
  expiresAt: number;
}

interface RefreshTokenRecord {
  grantId: string;
  scopes: string[];
  /** False once its successor has been used (rotation); never for Google's default mode. */
  live: boolean;
  /** The newest token issued in exchange for this one, while it has not been used. */
  successor: string | undefined;
  predecessor: string | undefined;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  token_type: 'Bearer';
}

export type TokenGrantError =
  | { error: 'invalid_grant'; description: string }
  | { error: 'invalid_scope'; description: string }
  | { error: 'redirect_uri_mismatch'; description: string };

/** What the authorization server counts for the control API's counters. */
export interface AuthorizationCounters {
  /** Token-endpoint calls by grant_type, successful or not. */
  tokenCalls: Record<string, number>;
  /** Token-endpoint calls by user email, then grant_type (only calls whose user was known). */
  tokenCallsByUser: Record<string, Record<string, number>>;
  revocations: number;
}

const CODE_TTL_MS = 10 * 60_000;
const PENDING_TTL_MS = 30 * 60_000;
/**
 * Grants, tokens, codes and parked consents each kept at most; past it the oldest go. Anyone
 * who can reach the sandbox can mint them (control API, /authorize), so memory stays bounded.
 */
const MAX_ENTRIES = 10_000;

function keepNewest(map: Map<string, unknown>): void {
  for (const key of map.keys()) {
    if (map.size <= MAX_ENTRIES) return;
    map.delete(key);
  }
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * The sandbox's authorization server (Google's OAuth endpoints behind /authorize, /token,
 * /revoke): clients and their secrets, parked consents, codes, grants, access and refresh
 * tokens. In memory, bounded; SandboxState composes it with the users and API data.
 */
export class SandboxAuthorizationServer {
  accessTokenTtlSeconds: number;
  rotateRefreshTokens: boolean;

  private clientSecrets = new Map<string, string>();
  private pending = new Map<string, { request: AuthorizationRequest; expiresAt: number }>();
  private codes = new Map<string, AuthorizationCode>();
  private grants = new Map<string, Grant>();
  private accessTokens = new Map<string, AccessTokenRecord>();
  private refreshTokens = new Map<string, RefreshTokenRecord>();
  private counters: AuthorizationCounters = emptyCounters();

  constructor(
    private readonly deps: {
      clock: Clock;
      findUser: (email: string) => SandboxUser | undefined;
      clients: SandboxClient[];
      accessTokenTtlSeconds: number;
      rotateRefreshTokens: boolean;
    },
  ) {
    this.accessTokenTtlSeconds = deps.accessTokenTtlSeconds;
    this.rotateRefreshTokens = deps.rotateRefreshTokens;
    this.reset();
  }

  private get clock(): Clock {
    return this.deps.clock;
  }

  /** Forgets every client secret seen, consent, code, grant, token and counter. */
  reset(): void {
    this.clientSecrets = new Map([[BUILT_IN_CLIENT.clientId, BUILT_IN_CLIENT.clientSecret]]);
    for (const client of this.deps.clients) {
      if (client.clientSecret !== undefined) this.clientSecrets.set(client.clientId, client.clientSecret);
    }
    this.pending.clear();
    this.codes.clear();
    this.grants.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.counters = emptyCounters();
  }

  readCounters(): AuthorizationCounters {
    return structuredClone(this.counters);
  }

  /** The principal of a live access token, or undefined when unknown, expired or revoked. */
  principalOf(accessToken: string): (SandboxPrincipal & { expiresAt: number }) | undefined {
    const record = this.accessTokens.get(accessToken);
    if (!record || record.expiresAt <= this.clock.now()) return undefined;
    const grant = this.grants.get(record.grantId);
    if (!grant || grant.revoked) return undefined;
    return { user: grant.user, scopes: record.scopes, clientId: grant.clientId, expiresAt: record.expiresAt };
  }

  private grantFor(user: SandboxUser, clientId: string): Grant {
    for (const grant of this.grants.values()) {
      if (!grant.revoked && grant.clientId === clientId && grant.user.email === user.email) return grant;
    }
    const grant: Grant = { id: randomToken(12), user, clientId, scopes: new Set(), revoked: false };
    this.grants.set(grant.id, grant);
    keepNewest(this.grants);
    return grant;
  }

  /** Scopes the user already granted this client (for include_granted_scopes and prompt=none). */
  grantedScopes(user: SandboxUser, clientId: string): string[] {
    for (const grant of this.grants.values()) {
      if (!grant.revoked && grant.clientId === clientId && grant.user.email === user.email) return [...grant.scopes];
    }
    return [];
  }

  private issue(grant: Grant, scopes: string[], withRefreshToken: boolean, predecessor?: string): TokenResponse {
    const accessToken = `ya29.sandbox-${randomToken(32)}`;
    this.accessTokens.set(accessToken, {
      grantId: grant.id,
      scopes,
      expiresAt: this.clock.now() + this.accessTokenTtlSeconds * 1000,
    });
    keepNewest(this.accessTokens);
    const response: TokenResponse = {
      access_token: accessToken,
      expires_in: this.accessTokenTtlSeconds,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    };
    if (withRefreshToken) {
      const refreshToken = `1//sandbox-${randomToken(32)}`;
      this.refreshTokens.set(refreshToken, {
        grantId: grant.id,
        scopes,
        live: true,
        successor: undefined,
        predecessor,
      });
      keepNewest(this.refreshTokens);
      response.refresh_token = refreshToken;
    }
    return response;
  }

  /** Issues tokens without a consent round trip (tests, benchmarks, demos). */
  issueTokenDirectly(input: { email: string; scopes: string[]; clientId?: string; offline?: boolean }): TokenResponse {
    const user = this.deps.findUser(input.email);
    if (!user) throw new Error(`no sandbox user ${input.email}`);
    const grant = this.grantFor(user, input.clientId ?? 'sandbox-direct');
    for (const scope of input.scopes) grant.scopes.add(scope);
    return this.issue(grant, input.scopes, input.offline ?? true);
  }

  // ---- authorization requests and codes -------------------------------------------------

  /** Parks a validated /authorize request while the consent page is shown; returns its id. */
  savePendingAuthorization(request: AuthorizationRequest): string {
    const id = randomToken(18);
    this.pending.set(id, { request, expiresAt: this.clock.now() + PENDING_TTL_MS });
    keepNewest(this.pending);
    return id;
  }

  takePendingAuthorization(id: string): AuthorizationRequest | undefined {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    if (!entry || entry.expiresAt <= this.clock.now()) return undefined;
    return entry.request;
  }

  issueAuthorizationCode(request: AuthorizationRequest, user: SandboxUser, grantedScopes: string[]): string {
    const scopes = request.includeGrantedScopes
      ? [...new Set([...this.grantedScopes(user, request.clientId), ...grantedScopes])]
      : grantedScopes;
    const code = `4/sandbox-${randomToken(32)}`;
    this.codes.set(code, { ...request, scopes, user, expiresAt: this.clock.now() + CODE_TTL_MS, used: false });
    keepNewest(this.codes);
    return code;
  }

  // ---- token endpoint -------------------------------------------------------------------

  countTokenCall(grantType: string, user?: SandboxUser): void {
    this.counters.tokenCalls[grantType] = (this.counters.tokenCalls[grantType] ?? 0) + 1;
    if (user) {
      const byUser = this.counters.tokenCallsByUser[user.email] ?? {};
      byUser[grantType] = (byUser[grantType] ?? 0) + 1;
      this.counters.tokenCallsByUser[user.email] = byUser;
    }
  }

  /**
   * Checks a client's secret: a registered client (the built-in one included) has its own;
   * any other client id keeps the first secret seen for it.
   */
  authenticateClient(clientId: string, clientSecret: string): boolean {
    const known = this.clientSecrets.get(clientId);
    if (known === undefined) {
      this.clientSecrets.set(clientId, clientSecret);
      return true;
    }
    return known === clientSecret;
  }

  registeredClient(clientId: string): SandboxClient | undefined {
    return this.deps.clients.find((client) => client.clientId === clientId);
  }

  /** The user a code or refresh token belongs to, without consuming it (for counters). */
  userOfCredential(credential: string): SandboxUser | undefined {
    const code = this.codes.get(credential);
    if (code) return code.user;
    const refresh = this.refreshTokens.get(credential);
    return refresh ? this.grants.get(refresh.grantId)?.user : undefined;
  }

  /** Who a code was issued to, for what and with which nonce, without spending it (the id_token's claims). */
  peekCode(
    code: string,
  ): { user: SandboxUser; clientId: string; scopes: string[]; nonce: string | undefined } | undefined {
    const found = this.codes.get(code);
    return found ? { user: found.user, clientId: found.clientId, scopes: found.scopes, nonce: found.nonce } : undefined;
  }

  exchangeCode(input: {
    code: string;
    clientId: string;
    redirectUri: string | undefined;
    codeVerifier: string | undefined;
  }): TokenResponse | TokenGrantError {
    const code = this.codes.get(input.code);
    if (!code || code.clientId !== input.clientId) return { error: 'invalid_grant', description: 'Bad Request' };
    if (code.used) {
      // RFC 6749 §4.1.2: a reused code should revoke what it produced.
      this.revokeGrantOf(code.user, code.clientId);
      return { error: 'invalid_grant', description: 'Bad Request' };
    }
    if (code.expiresAt <= this.clock.now()) return { error: 'invalid_grant', description: 'Bad Request' };
    if (input.redirectUri !== code.redirectUri) return { error: 'redirect_uri_mismatch', description: 'Bad Request' };
    if (code.codeChallenge !== undefined) {
      if (!input.codeVerifier) return { error: 'invalid_grant', description: 'Missing code verifier.' };
      const computed =
        code.codeChallengeMethod === 'plain'
          ? input.codeVerifier
          : createHash('sha256').update(input.codeVerifier).digest('base64url');
      if (computed !== code.codeChallenge) return { error: 'invalid_grant', description: 'Invalid code verifier.' };
    }
    code.used = true;
    const grant = this.grantFor(code.user, code.clientId);
    for (const scope of code.scopes) grant.scopes.add(scope);
    return this.issue(grant, code.scopes, code.offline);
  }

  refresh(input: { refreshToken: string; clientId: string; scopes: string[] }): TokenResponse | TokenGrantError {
    const expired = { error: 'invalid_grant', description: 'Token has been expired or revoked.' } as const;
    const record = this.refreshTokens.get(input.refreshToken);
    if (!record?.live) return expired;
    const grant = this.grants.get(record.grantId);
    if (!grant || grant.revoked) return expired;
    if (grant.clientId !== input.clientId) return { error: 'invalid_grant', description: 'Bad Request' };
    const scopes = input.scopes.length > 0 ? input.scopes : record.scopes;
    if (!scopes.every((scope) => record.scopes.includes(scope))) {
      return { error: 'invalid_scope', description: 'Bad Request' };
    }
    // First use of a rotated token: its predecessor's grace period ends.
    if (record.predecessor !== undefined) {
      const previous = this.refreshTokens.get(record.predecessor);
      if (previous) previous.live = false;
      record.predecessor = undefined;
    }
    if (!this.rotateRefreshTokens) return this.issue(grant, scopes, false);
    // Re-using a token whose successor was never used: that successor was lost, replace it.
    if (record.successor !== undefined) this.refreshTokens.delete(record.successor);
    const response = this.issue(grant, scopes, true, input.refreshToken);
    record.successor = response.refresh_token;
    return response;
  }

  /** Revokes the grant behind an access or refresh token. False when the token is unknown. */
  revokeToken(token: string): boolean {
    const record = this.accessTokens.get(token) ?? this.refreshTokens.get(token);
    if (!record) return false;
    const grant = this.grants.get(record.grantId);
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    this.counters.revocations += 1;
    return true;
  }

  /** Revokes every grant of a user (or only the one given to `clientId`). Returns how many. */
  revokeGrantOf(user: SandboxUser, clientId?: string): number {
    let count = 0;
    for (const grant of this.grants.values()) {
      if (grant.revoked || grant.user.email !== user.email) continue;
      if (clientId !== undefined && grant.clientId !== clientId) continue;
      grant.revoked = true;
      count += 1;
    }
    this.counters.revocations += count;
    return count;
  }

  /** Makes every access token of a user expire now; refresh tokens keep working. */
  expireAccessTokensOf(user: SandboxUser): number {
    const now = this.clock.now();
    let count = 0;
    for (const record of this.accessTokens.values()) {
      const grant = this.grants.get(record.grantId);
      if (grant?.user.email === user.email && record.expiresAt > now) {
        record.expiresAt = now;
        count += 1;
      }
    }
    return count;
  }
}

function emptyCounters(): AuthorizationCounters {
  return { tokenCalls: {}, tokenCallsByUser: {}, revocations: 0 };
}
