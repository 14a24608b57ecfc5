import { Hono } from 'hono';
import { sandboxBodyLimits } from './body-limits.js';
import { createCalendarApi } from './calendar/index.js';
import { type ControlAccess, createControlRoutes } from './control.js';
import { faultInjection } from './faults.js';
import { createGmailApi } from './gmail/index.js';
import { googleError } from './google-errors.js';
import { createOAuthRoutes } from './oauth/index.js';
import { createPeopleApi } from './people/index.js';
import { type SandboxOptions, SandboxState } from './state.js';

export interface SandboxAppOptions extends SandboxOptions {
  /** Who may use `/__sandbox`; open to every caller without it (a sandbox for tests). */
  control?: ControlAccess;
  /**
   * Where /authorize may send the browser besides registered clients' redirect URIs. Without
   * it any URI goes (a sandbox for tests); mounted in a server, only that server's own pages.
   */
  allowRedirectUri?: (uri: URL) => boolean;
}

export interface Sandbox {
  app: Hono;
  state: SandboxState;
}

/**
 * The whole sandbox as one Hono app with no I/O: Google's OAuth endpoints, Gmail v1,
 * Calendar v3, the People API's contact reads and the `/__sandbox` test controls. Serve it
 * alone or mount it under a prefix.
 */
export function createSandbox(options: SandboxAppOptions = {}): Sandbox {
  const state = new SandboxState(options);
  const app = new Hono();
  app.use('*', sandboxBodyLimits());
  app.use('*', faultInjection(state.faults));
  app.route('/__sandbox', createControlRoutes(state, options.control));
  app.route('/', createOAuthRoutes(state, options.allowRedirectUri));
  app.route('/', createGmailApi(state));
  app.route('/calendar/v3', createCalendarApi(state));
  app.route('/', createPeopleApi(state));
  app.notFound(() => googleError(404, { message: 'The requested URL was not found on this server.' }));
  app.onError((error) => {
    console.error('sandbox: unexpected error', error);
    return googleError(500);
  });
  return { app, state };
}
