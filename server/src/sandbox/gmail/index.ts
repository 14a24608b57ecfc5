import { Hono } from 'hono';
import type { SandboxUser } from '../context.js';
import { registerDraftRoutes } from './drafts.js';
import { registerHistoryRoutes } from './history.js';
import { registerLabelRoutes } from './label-routes.js';
import { Mailbox } from './mailbox.js';
import { registerMessageRoutes } from './messages.js';
import { registerProfileRoutes } from './profile.js';
import { forbidden } from './routes-support.js';
import { G, type GmailContext, type GmailRoute, type GmailRoutes } from './routing.js';
import { isMetadataOnly } from './scopes.js';
import { seedMailbox } from './seed.js';
import { registerSettingsRoutes } from './settings.js';
import { registerThreadRoutes } from './threads.js';

export type { GmailAccess, GmailContext, GmailRoute } from './routing.js';

function colleagueOf(user: SandboxUser, users: readonly SandboxUser[]): SandboxUser | undefined {
  const index = users.findIndex((candidate) => candidate.email === user.email);
  return users.length > 1 ? users[(index + 1) % users.length] : undefined;
}

/** Gmail API v1 at Google's paths (`/gmail/v1/...` and `/upload/gmail/v1/...`), one file per resource. */
export function createGmailApi(ctx: GmailContext): Hono {
  const app = new Hono();
  const mailboxOf = (user: SandboxUser): Mailbox =>
    ctx.userData('gmail', user, (owner) => {
      const mailbox = new Mailbox(owner);
      seedMailbox(mailbox, ctx.clock.now(), colleagueOf(owner, ctx.users));
      return mailbox;
    });

  const route: GmailRoute = (method, path, scopes, name, handler) => {
    app.on(method, path, async (c) => {
      const principal = ctx.authenticate(c.req.raw, scopes, `caribou.api.proto.MailboxService.${name}`);
      if (principal instanceof Response) return principal;
      const userId = c.req.param('userId') ?? 'me';
      if (userId !== 'me' && userId.toLowerCase() !== principal.user.email.toLowerCase()) {
        return forbidden(`Delegation denied for ${principal.user.email}`);
      }
      return handler(c, {
        principal,
        mailbox: mailboxOf(principal.user),
        metadataOnly: isMetadataOnly(principal.scopes),
      });
    });
  };

  const routes: GmailRoutes = { route, ctx, mailboxOf };
  registerProfileRoutes(routes);
  registerMessageRoutes(routes);
  registerThreadRoutes(routes);
  registerLabelRoutes(routes);
  registerDraftRoutes(routes);
  registerHistoryRoutes(routes);
  registerSettingsRoutes(route, G, ctx.users);
  return app;
}
