import { z } from 'zod';
import type { SandboxUser } from '../context.js';
import { failedPrecondition, googleError, invalidArgument, notFound } from '../google-errors.js';
import { isEmailAddress, organizationMember, sameAddress } from './organization.js';
import { noContent, readJson } from './routes-support.js';
import type { GmailRoute } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

// Gmail's usual per-user ceiling; organizations may set lower ones.
const MAX_DELEGATES = 25;

/**
 * users.settings.delegates: list/get with the settings read scopes, create/delete with
 * gmail.settings.sharing only. Delegates are created already `accepted`, and must belong to
 * the same organization.
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.settings.delegates
 */
export function registerDelegateRoutes(route: GmailRoute, S: string, users: readonly SandboxUser[]): void {
  const D = `${S}/delegates`;

  route('GET', D, GMAIL_SCOPES.settingsRead, 'ListDelegates', (c, { mailbox }) =>
    c.json(mailbox.settings.delegates.length > 0 ? { delegates: mailbox.settings.delegates } : {}),
  );

  route('GET', `${D}/:email`, GMAIL_SCOPES.settingsRead, 'GetDelegate', (c, { mailbox }) => {
    const wanted = c.req.param('email') ?? '';
    const found = mailbox.settings.delegates.find((entry) => sameAddress(entry.delegateEmail, wanted));
    return found ? c.json(found) : notFound();
  });

  route('POST', D, GMAIL_SCOPES.settingsSharing, 'CreateDelegate', async (c, { mailbox }) => {
    const body = await readJson(c, z.object({ delegateEmail: z.string().optional() }));
    if (body instanceof Response) return body;
    const email = body.delegateEmail?.trim() ?? '';
    if (!email) return invalidArgument('Missing delegateEmail');
    if (!isEmailAddress(email)) return invalidArgument(`Invalid delegateEmail: ${email}`);
    const member = organizationMember(email, users);
    if (!member) return invalidArgument(`Delegate ${email} is not a user of the same organization`);
    if (sameAddress(member.email, mailbox.user.email)) return invalidArgument('Cannot delegate to yourself');
    const list = mailbox.settings.delegates;
    if (list.some((entry) => sameAddress(entry.delegateEmail, member.email))) {
      return googleError(409, { message: 'Delegate already exists', reason: 'duplicate' });
    }
    if (list.length >= MAX_DELEGATES) return failedPrecondition(`Too many delegates: at most ${MAX_DELEGATES}`);
    const created = { delegateEmail: member.email, verificationStatus: 'accepted' as const };
    list.push(created);
    return c.json(created);
  });

  route('DELETE', `${D}/:email`, GMAIL_SCOPES.settingsSharing, 'DeleteDelegate', (c, { mailbox }) => {
    const wanted = c.req.param('email') ?? '';
    const list = mailbox.settings.delegates;
    const index = list.findIndex((entry) => sameAddress(entry.delegateEmail, wanted));
    if (index < 0) return notFound();
    list.splice(index, 1);
    return noContent();
  });
}
