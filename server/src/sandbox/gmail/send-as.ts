import { z } from 'zod';
import type { SandboxUser } from '../context.js';
import { failedPrecondition, googleError, invalidArgument, notFound } from '../google-errors.js';
import type { Mailbox, SendAs } from './mailbox.js';
import { isEmailAddress, isOrganizationAddress, sameAddress } from './organization.js';
import { noContent, readJson } from './routes-support.js';
import type { GmailRoute } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

/**
 * users.settings.sendAs: list/get (settings read scopes), update/patch (settings.basic or
 * settings.sharing), create/delete/verify (settings.sharing only).
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.settings.sendAs
 */

const sendAsSchema = z.object({
  sendAsEmail: z.string().optional(),
  displayName: z.string().optional(),
  replyToAddress: z.string().optional(),
  signature: z.string().optional(),
  isDefault: z.boolean().optional(),
  treatAsAlias: z.boolean().optional(),
});

function find(mailbox: Mailbox, email: string | undefined): SendAs | undefined {
  return mailbox.settings.sendAs.find((entry) => sameAddress(entry.sendAsEmail, email ?? ''));
}

function makeDefault(mailbox: Mailbox, alias: SendAs): void {
  for (const entry of mailbox.settings.sendAs) entry.isDefault = entry === alias;
}

export function registerSendAsRoutes(route: GmailRoute, S: string, users: readonly SandboxUser[]): void {
  const A = `${S}/sendAs`;

  route('GET', A, GMAIL_SCOPES.settingsRead, 'ListSendAs', (c, { mailbox }) =>
    c.json({ sendAs: mailbox.settings.sendAs }),
  );

  route('GET', `${A}/:email`, GMAIL_SCOPES.settingsRead, 'GetSendAs', (c, { mailbox }) => {
    const alias = find(mailbox, c.req.param('email'));
    return alias ? c.json(alias) : notFound();
  });

  route('POST', A, GMAIL_SCOPES.settingsSharing, 'CreateSendAs', async (c, { mailbox }) => {
    const body = await readJson(c, sendAsSchema);
    if (body instanceof Response) return body;
    const email = body.sendAsEmail?.trim() ?? '';
    if (!email) return invalidArgument('Missing sendAsEmail');
    if (!isEmailAddress(email)) return invalidArgument(`Invalid sendAsEmail: ${email}`);
    if (find(mailbox, email)) {
      return googleError(409, { message: 'Send-as alias already exists', reason: 'duplicate' });
    }
    // Addresses of the user's own organization need no ownership check; others get a verification mail.
    const accepted = isOrganizationAddress(email, users);
    const alias: SendAs = {
      sendAsEmail: email,
      displayName: body.displayName ?? '',
      replyToAddress: body.replyToAddress ?? '',
      signature: body.signature ?? '',
      isPrimary: false,
      isDefault: false,
      treatAsAlias: body.treatAsAlias ?? false,
      verificationStatus: accepted ? 'accepted' : 'pending',
    };
    mailbox.settings.sendAs.push(alias);
    if (body.isDefault && accepted) makeDefault(mailbox, alias);
    return c.json(alias);
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    route(
      method,
      `${A}/:email`,
      GMAIL_SCOPES.settingsBasicOrSharing,
      method === 'PUT' ? 'UpdateSendAs' : 'PatchSendAs',
      async (c, { mailbox }) => {
        const body = await readJson(c, sendAsSchema);
        if (body instanceof Response) return body;
        const alias = find(mailbox, c.req.param('email'));
        if (!alias) return notFound();
        if (body.displayName !== undefined) alias.displayName = body.displayName;
        if (body.replyToAddress !== undefined) alias.replyToAddress = body.replyToAddress;
        if (body.signature !== undefined) alias.signature = body.signature;
        if (body.treatAsAlias !== undefined && !alias.isPrimary) alias.treatAsAlias = body.treatAsAlias;
        // Only `true` can be written; a pending alias cannot become the default yet.
        if (body.isDefault === true) {
          if (alias.verificationStatus === 'pending') return failedPrecondition('Send-as alias is not verified');
          makeDefault(mailbox, alias);
        }
        return c.json(alias);
      },
    );
  }

  route('DELETE', `${A}/:email`, GMAIL_SCOPES.settingsSharing, 'DeleteSendAs', (c, { mailbox }) => {
    const alias = find(mailbox, c.req.param('email'));
    if (!alias) return notFound();
    if (alias.isPrimary) return invalidArgument('Cannot delete the primary send-as alias');
    mailbox.settings.sendAs = mailbox.settings.sendAs.filter((entry) => entry !== alias);
    const primary = mailbox.settings.sendAs.find((entry) => entry.isPrimary);
    if (alias.isDefault && primary) makeDefault(mailbox, primary);
    return noContent();
  });

  // Resends the verification mail; Gmail answers an empty body, and refuses aliases not pending.
  route('POST', `${A}/:email/verify`, GMAIL_SCOPES.settingsSharing, 'VerifySendAs', (c, { mailbox }) => {
    const alias = find(mailbox, c.req.param('email'));
    if (!alias) return notFound();
    if (alias.verificationStatus !== 'pending') return failedPrecondition('Send-as alias is not pending verification');
    return noContent();
  });
}
