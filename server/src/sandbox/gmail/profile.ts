import { noContent } from './routes-support.js';
import { G, type GmailRoutes } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

/** The methods on the user itself: users.getProfile, users.watch and users.stop. */
export function registerProfileRoutes({ route, ctx }: GmailRoutes): void {
  route('GET', `${G}/profile`, GMAIL_SCOPES.profile, 'GetProfile', (c, { mailbox }) => {
    const threads = new Set([...mailbox.messages.values()].map((message) => message.threadId));
    return c.json({
      emailAddress: mailbox.user.email,
      messagesTotal: mailbox.messages.size,
      threadsTotal: threads.size,
      historyId: String(mailbox.historyId),
    });
  });

  // Push notifications are accepted and ignored: there is no Pub/Sub offline.
  route('POST', `${G}/watch`, GMAIL_SCOPES.read, 'Watch', (c, { mailbox }) =>
    c.json({ historyId: String(mailbox.historyId), expiration: String(ctx.clock.now() + 7 * 86_400_000) }),
  );
  route('POST', `${G}/stop`, GMAIL_SCOPES.read, 'Stop', () => noContent());
}
