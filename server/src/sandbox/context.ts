import type { Clock } from '../clock.js';

/** A seeded test user of the sandbox (the people you can pick on its consent page). */
export interface SandboxUser {
  /** Stable subject id, like Google's numeric `sub`. */
  sub: string;
  email: string;
  name: string;
  givenName: string;
  familyName: string;
}

/** Who an access token belongs to and what it may do. */
export interface SandboxPrincipal {
  user: SandboxUser;
  scopes: string[];
  clientId: string;
}

/**
 * What each emulated API (Gmail, Calendar) receives from the sandbox core.
 * The OAuth part of the sandbox implements it; the API parts only consume it.
 */
export interface SandboxContext {
  clock: Clock;
  /**
   * Checks the request's `Authorization: Bearer` token. Resolves to the principal, or to
   * the Response Google would send: 401 UNAUTHENTICATED for a missing/expired/revoked token,
   * 403 PERMISSION_DENIED ("Request had insufficient authentication scopes.") when the
   * token holds none of `acceptedScopes`.
   */
  authenticate(request: Request, acceptedScopes: string[]): SandboxPrincipal | Response;
  /**
   * Per-user state of one API, created on first use by `seed`. State is keyed by the
   * user's email, so a token of user A never reaches user B's data.
   */
  userData<T>(api: string, user: SandboxUser, seed: (user: SandboxUser) => T): T;
}
