import { type Clock, systemClock } from '../clock.js';
import type { SandboxContext, SandboxPrincipal, SandboxUser } from './context.js';
import { type Fault, type FaultSpec, FaultTable } from './faults.js';
import { insufficientScope, unauthenticated } from './google-errors.js';
import {
  type AuthorizationCounters,
  SandboxAuthorizationServer,
  type SandboxClient,
} from './oauth/authorization-server.js';
import { DEFAULT_SANDBOX_USERS } from './users.js';

export interface SandboxOptions {
  clock?: Clock;
  /** Lifetime of access tokens; Google's is 3599 s. */
  accessTokenTtlSeconds?: number;
  /** Issue a new refresh token on every refresh (Google does not). */
  rotateRefreshTokens?: boolean;
  users?: SandboxUser[];
  clients?: SandboxClient[];
}

export interface SandboxCounters extends AuthorizationCounters {
  /** Authenticated API calls (Gmail, Calendar) by user email. */
  apiCallsByUser: Record<string, number>;
}

function serviceOf(request: Request): string {
  const path = new URL(request.url).pathname;
  if (path.includes('/calendar/')) return 'calendar-json.googleapis.com';
  if (path.includes('/gmail/')) return 'gmail.googleapis.com';
  if (/^\/v1\/(people|otherContacts)[/:]/.test(path)) return 'people.googleapis.com';
  return 'googleapis.com';
}

/**
 * The sandbox's memory: users, the authorization server (`oauth`: grants and tokens), per-user
 * API data, faults and counters.
 */
export class SandboxState implements SandboxContext {
  readonly clock: Clock;
  readonly users: SandboxUser[];
  readonly faults = new FaultTable();
  /** Clients, consents, codes, grants and tokens. */
  readonly oauth: SandboxAuthorizationServer;

  private clockOffsetMs = 0;
  /**
   * Which signing key the OpenID Connect face uses (1 = the first). Rotating it, as Google's keys
   * roll over every few days, has id_tokens signed by a key that a JWKS fetched earlier lacks.
   */
  idTokenKeyGeneration = 1;
  private readonly baseClock: Clock;
  private data = new Map<string, Map<string, unknown>>();
  private apiCallsByUser: Record<string, number> = {};

  constructor(options: SandboxOptions = {}) {
    this.baseClock = options.clock ?? systemClock;
    // Tests may move the sandbox's time forward over HTTP (/__sandbox/clock) on top of the injected clock.
    this.clock = { now: () => this.baseClock.now() + this.clockOffsetMs };
    this.users = options.users ?? DEFAULT_SANDBOX_USERS;
    this.oauth = new SandboxAuthorizationServer({
      clock: this.clock,
      findUser: (email) => this.findUser(email),
      clients: options.clients ?? [],
      // Google's access tokens live 3599 s.
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3599,
      rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    });
    this.reset();
  }

  get accessTokenTtlSeconds(): number {
    return this.oauth.accessTokenTtlSeconds;
  }

  set accessTokenTtlSeconds(seconds: number) {
    this.oauth.accessTokenTtlSeconds = seconds;
  }

  get rotateRefreshTokens(): boolean {
    return this.oauth.rotateRefreshTokens;
  }

  set rotateRefreshTokens(rotate: boolean) {
    this.oauth.rotateRefreshTokens = rotate;
  }

  /** Forgets every grant, token, mailbox, fault and counter (users and options stay). */
  reset(): void {
    this.oauth.reset();
    this.data.clear();
    this.faults.clear();
    this.apiCallsByUser = {};
    this.clockOffsetMs = 0;
  }

  /** Signs id_tokens with a new key from now on; the JWKS publishes it beside the one before. */
  rotateIdTokenKey(): number {
    this.idTokenKeyGeneration += 1;
    return this.idTokenKeyGeneration;
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
    const principal = this.oauth.principalOf(token);
    if (!principal) return unauthenticated(true);
    if (acceptedScopes.length > 0 && !principal.scopes.some((scope) => acceptedScopes.includes(scope))) {
      return insufficientScope(serviceOf(request), method ?? 'unknown', acceptedScopes);
    }
    const email = principal.user.email;
    this.apiCallsByUser[email] = (this.apiCallsByUser[email] ?? 0) + 1;
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

  readCounters(): SandboxCounters {
    return { ...this.oauth.readCounters(), apiCallsByUser: structuredClone(this.apiCallsByUser) };
  }

  addFault(spec: FaultSpec): Fault {
    return this.faults.add(spec);
  }
}
