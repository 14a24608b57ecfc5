import type { Context } from 'hono';
import type { SandboxContext, SandboxPrincipal, SandboxUser } from '../context.js';
import type { Mailbox } from './mailbox.js';

/** What the Gmail emulator needs beyond the shared contract: the other users, for local delivery. */
export interface GmailContext extends SandboxContext {
  readonly users: readonly SandboxUser[];
  authenticate(request: Request, acceptedScopes: string[], method?: string): SandboxPrincipal | Response;
}

/** Who called, and the mailbox the call works on. */
export interface GmailAccess {
  principal: SandboxPrincipal;
  mailbox: Mailbox;
  metadataOnly: boolean;
}

export type GmailHandler = (c: Context, access: GmailAccess) => Response | Promise<Response>;

/** Registers one Gmail method: the caller is authenticated against `scopes` before `handler` runs. */
export type GmailRoute = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  scopes: string[],
  name: string,
  handler: GmailHandler,
) => void;

/** What each resource's routes are registered with. */
export interface GmailRoutes {
  route: GmailRoute;
  ctx: GmailContext;
  /** Every user's mailbox, created and seeded on first use. */
  mailboxOf(user: SandboxUser): Mailbox;
}

/** The prefix of users.* methods, and of their media uploads. */
export const G = '/gmail/v1/users/:userId';
export const U = '/upload/gmail/v1/users/:userId';
