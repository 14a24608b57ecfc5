import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import type { SandboxContext, SandboxPrincipal, SandboxUser } from './context.js';
import { type Fault, type FaultSpec, FaultTable } from './faults.js';
import { insufficientScope, unauthenticated } from './google-errors.js';
import { DEFAULT_SANDBOX_USERS } from './users.js';

export interface SandboxClient {
  clientId: string;
  /** When given, the token endpoint demands it from the first call on. */
  clientSecret?: string;
  /** When given, /authorize accepts only these redirect URIs (Google's redirect_uri_mismatch). */
  redirectUris?: string[];
}

export interface SandboxOptions {
  clock?: Clock;
  /** Lifetime of access tokens; Google's is 3599 s. */
  accessTokenTtlSeconds?: number;
  /** Issue a new refresh token on every refresh (Google does not). */
  rotateRefreshTokens?: boolean;
  users?: SandboxUser[];
  clients?: SandboxClient[];
}

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

export interface SandboxCounters {
  /** Token-endpoint calls by grant_type, successful or not. */
  tokenCalls: Record<string, number>;
  /** Token-endpoint calls by user email, then grant_type (only calls whose user was known). */
  tokenCallsByUser: Record<string, Record<string, number>>;
  /** Authenticated API calls (Gmail, Calendar) by user email. */
  apiCallsByUser: Record<string, number>;
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

function serviceOf(request: Request): string {
  const path = new URL(request.url).pathname;
  if (path.includes('/calendar/')) return 'calendar-json.googleapis.com';
  if (path.includes('/gmail/')) return 'gmail.googleapis.com';
  if (/^\/v1\/(people|otherContacts)[/:]/.test(path)) return 'people.googleapis.com';
  return 'googleapis.com';
}

/** The sandbox's memory: users, OAuth grants and tokens, per-user API data, faults, counters. */
export class SandboxState implements SandboxContext {
  readonly clock: Clock;
  readonly users: SandboxUser[];
  readonly faults = new FaultTable();
  accessTokenTtlSeconds: number;
  rotateRefreshTokens: boolean;

  private clockOffsetMs = 0;
  private readonly baseClock: Clock;
  private readonly registeredClients: SandboxClient[];
  private clientSecrets = new Map<string, string>();
  private pending = new Map<string, { request: AuthorizationRequest; expiresAt: number }>();
  private codes = new Map<string, AuthorizationCode>();
  private grants = new Map<string, Grant>();
  private accessTokens = new Map<string, AccessTokenRecord>();
  private refreshTokens = new Map<string, RefreshTokenRecord>();
  private data = new Map<string, Map<string, unknown>>();
  private counters: SandboxCounters = emptyCounters();

  constructor(options: SandboxOptions = {}) {
    this.baseClock = options.clock ?? systemClock;
    // Tests may move the sandbox's time forward over HTTP (/__sandbox/clock) on top of the injected clock.
    this.clock = { now: () => this.baseClock.now() + this.clockOffsetMs };
    this.users = options.users ?? DEFAULT_SANDBOX_USERS;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3599;
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? false;
    this.registeredClients = options.clients ?? [];
    this.reset();
  }

  /** Forgets every grant, token, mailbox, fault and counter (users and options stay). */
  reset(): void {
    this.clientSecrets = new Map();
    for (const client of this.registeredClients) {
      if (client.clientSecret !== undefined) this.clientSecrets.set(client.clientId, client.clientSecret);
    }
    this.pending.clear();
    this.codes.clear();
    this.grants.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.data.clear();
    this.faults.clear();
    this.counters = emptyCounters();
    this.clockOffsetMs = 0;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  findUser(email: string): SandboxUser | undefined {
    const wanted = email.trim().toLowerCase();
    return this.users.find((user) => user.email.toLowerCase() === wanted);
  }

  // ---- SandboxContext -------------------------------------------------------------------

  authenticate(request: Request, acceptedScopes: string[], method?: string): SandboxPrincipal | Response {
    const header = request.headers.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1] ?? new URL(request.url).searchParams.get('access_token') ?? undefined;
    if (!token) return unauthenticated(false);
    const principal = this.principalOf(token);
    if (!principal) return unauthenticated(true);
    if (acceptedScopes.length > 0 && !principal.scopes.some((scope) => acceptedScopes.includes(scope))) {
      return insufficientScope(serviceOf(request), method ?? 'unknown', acceptedScopes);
    }
    const email = principal.user.email;
    this.counters.apiCallsByUser[email] = (this.counters.apiCallsByUser[email] ?? 0) + 1;
    return principal;
  }

  userData<T>(api: string, user: SandboxUser, seed: (user: SandboxUser) => T): T {
    let byUser = this.data.get(api);
    if (!byUser) {
      byUser = new Map();
      this.data.set(api, byUser);
    }
    const key = user.email.toLowerCase();
    if (!byUser.has(key)) byUser.set(key, seed(user));
    // The map holds, per api, only values this same seed function produced.
    return byUser.get(key) as T;
  }

  // ---- tokens ---------------------------------------------------------------------------

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
    const user = this.findUser(input.email);
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

  /** Checks a client's secret: the first secret seen for a client id is the one it keeps. */
  authenticateClient(clientId: string, clientSecret: string): boolean {
    const known = this.clientSecrets.get(clientId);
    if (known === undefined) {
      this.clientSecrets.set(clientId, clientSecret);
      return true;
    }
    return known === clientSecret;
  }

  registeredClient(clientId: string): SandboxClient | undefined {
    return this.registeredClients.find((client) => client.clientId === clientId);
  }

  /** The user a code or refresh token belongs to, without consuming it (for counters). */
  userOfCredential(credential: string): SandboxUser | undefined {
    const code = this.codes.get(credential);
    if (code) return code.user;
    const refresh = this.refreshTokens.get(credential);
    return refresh ? this.grants.get(refresh.grantId)?.user : undefined;
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

  readCounters(): SandboxCounters {
    return structuredClone(this.counters);
  }

  addFault(spec: FaultSpec): Fault {
    return this.faults.add(spec);
  }
}

function emptyCounters(): SandboxCounters {
  return { tokenCalls: {}, tokenCallsByUser: {}, apiCallsByUser: {}, revocations: 0 };
}
