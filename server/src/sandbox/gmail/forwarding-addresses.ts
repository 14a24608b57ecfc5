import { z } from 'zod';
import type { SandboxUser } from '../context.js';
import { googleError, invalidArgument, notFound } from '../google-errors.js';
import { isEmailAddress, isOrganizationAddress, sameAddress } from './organization.js';
import { noContent, readJson } from './routes-support.js';
import type { GmailRoute } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

/**
 * users.settings.forwardingAddresses: list/get with the settings read scopes, create/delete
 * with gmail.settings.sharing only.
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.settings.forwardingAddresses
 */
export function registerForwardingAddressRoutes(route: GmailRoute, S: string, users: readonly SandboxUser[]): void {
  const F = `${S}/forwardingAddresses`;

  // Gmail leaves an empty list out of the answer.
  route('GET', F, GMAIL_SCOPES.settingsRead, 'ListForwardingAddresses', (c, { mailbox }) =>
    c.json(
      mailbox.settings.forwardingAddresses.length > 0
        ? { forwardingAddresses: mailbox.settings.forwardingAddresses }
        : {},
    ),
  );

  route('GET', `${F}/:email`, GMAIL_SCOPES.settingsRead, 'GetForwardingAddress', (c, { mailbox }) => {
    const wanted = c.req.param('email') ?? '';
    const found = mailbox.settings.forwardingAddresses.find((entry) => sameAddress(entry.forwardingEmail, wanted));
    return found ? c.json(found) : notFound();
  });

  route('POST', F, GMAIL_SCOPES.settingsSharing, 'CreateForwardingAddress', async (c, { mailbox }) => {
    const body = await readJson(c, z.object({ forwardingEmail: z.string().optional() }));
    if (body instanceof Response) return body;
    const email = body.forwardingEmail?.trim() ?? '';
    if (!email) return invalidArgument('Missing forwardingEmail');
    if (!isEmailAddress(email)) return invalidArgument(`Invalid forwarding address: ${email}`);
    const list = mailbox.settings.forwardingAddresses;
    if (list.some((entry) => sameAddress(entry.forwardingEmail, email))) {
      return googleError(409, { message: 'Forwarding address already exists', reason: 'duplicate' });
    }
    // Google mails a confirmation link unless the organization owns the address; then it is usable at once.
    const created = {
      forwardingEmail: email,
      verificationStatus: isOrganizationAddress(email, users) ? ('accepted' as const) : ('pending' as const),
    };
    list.push(created);
    return c.json(created);
  });

  route('DELETE', `${F}/:email`, GMAIL_SCOPES.settingsSharing, 'DeleteForwardingAddress', (c, { mailbox }) => {
    const wanted = c.req.param('email') ?? '';
    const list = mailbox.settings.forwardingAddresses;
    const index = list.findIndex((entry) => sameAddress(entry.forwardingEmail, wanted));
    if (index < 0) return notFound();
    list.splice(index, 1);
    // Auto-forwarding to a removed address stops, as in Gmail's settings page.
    const forwarding = mailbox.settings.autoForwarding;
    if (typeof forwarding.emailAddress === 'string' && sameAddress(forwarding.emailAddress, wanted)) {
      mailbox.settings.autoForwarding = { enabled: false };
    }
    return noContent();
  });
}
