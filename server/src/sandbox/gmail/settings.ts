import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { invalidArgument, notFound } from '../google-errors.js';
import type { GmailRoute } from './index.js';
import { noContent, readJson } from './routes-support.js';
import { GMAIL_SCOPES } from './scopes.js';

/** users.settings.*: filters, forwarding addresses, send-as, vacation, IMAP, POP, language, auto-forwarding. */

const filterSchema = z.object({
  criteria: z
    .object({
      from: z.string().optional(),
      to: z.string().optional(),
      subject: z.string().optional(),
      query: z.string().optional(),
      negatedQuery: z.string().optional(),
      hasAttachment: z.boolean().optional(),
      excludeChats: z.boolean().optional(),
      size: z.number().optional(),
      sizeComparison: z.enum(['unspecified', 'smaller', 'larger']).optional(),
    })
    .optional(),
  action: z
    .object({
      addLabelIds: z.array(z.string()).optional(),
      removeLabelIds: z.array(z.string()).optional(),
      forward: z.string().optional(),
    })
    .optional(),
});

const sendAsSchema = z.object({
  displayName: z.string().optional(),
  replyToAddress: z.string().optional(),
  signature: z.string().optional(),
  isDefault: z.boolean().optional(),
  treatAsAlias: z.boolean().optional(),
});

const looseObject = z.record(z.string(), z.unknown());

export function registerSettingsRoutes(route: GmailRoute, G: string): void {
  const S = `${G}/settings`;

  route('GET', `${S}/filters`, GMAIL_SCOPES.settingsRead, 'ListFilters', (c, { mailbox }) =>
    c.json(mailbox.settings.filters.length > 0 ? { filter: mailbox.settings.filters } : {}),
  );

  route('GET', `${S}/filters/:id`, GMAIL_SCOPES.settingsRead, 'GetFilter', (c, { mailbox }) => {
    const filter = mailbox.settings.filters.find((entry) => entry.id === c.req.param('id'));
    return filter ? c.json(filter) : notFound();
  });

  route('POST', `${S}/filters`, GMAIL_SCOPES.settingsWrite, 'CreateFilter', async (c, { mailbox }) => {
    const body = await readJson(c, filterSchema);
    if (body instanceof Response) return body;
    const criteria = body.criteria ?? {};
    const action = body.action ?? {};
    if (Object.keys(criteria).length === 0) return invalidArgument("Filter doesn't have any criteria");
    if (Object.keys(action).length === 0) return invalidArgument("Filter doesn't have any actions");
    const bad = [...(action.addLabelIds ?? []), ...(action.removeLabelIds ?? [])].find((id) => !mailbox.labels.has(id));
    if (bad) return invalidArgument(`Invalid label ${bad} in AddLabelIds`);
    const filter = { id: `ANe1Bm${randomBytes(18).toString('base64url')}`, criteria, action };
    mailbox.settings.filters.push(filter);
    return c.json(filter);
  });

  route('DELETE', `${S}/filters/:id`, GMAIL_SCOPES.settingsWrite, 'DeleteFilter', (c, { mailbox }) => {
    const before = mailbox.settings.filters.length;
    mailbox.settings.filters = mailbox.settings.filters.filter((entry) => entry.id !== c.req.param('id'));
    return mailbox.settings.filters.length === before ? notFound() : noContent();
  });

  // Nobody has verified forwarding addresses in the sandbox; Gmail omits empty lists.
  route('GET', `${S}/forwardingAddresses`, GMAIL_SCOPES.settingsRead, 'ListForwardingAddresses', (c) => c.json({}));

  route('GET', `${S}/sendAs`, GMAIL_SCOPES.settingsRead, 'ListSendAs', (c, { mailbox }) =>
    c.json({ sendAs: mailbox.settings.sendAs }),
  );

  route('GET', `${S}/sendAs/:email`, GMAIL_SCOPES.settingsRead, 'GetSendAs', (c, { mailbox }) => {
    const wanted = (c.req.param('email') ?? '').toLowerCase();
    const alias = mailbox.settings.sendAs.find((entry) => entry.sendAsEmail.toLowerCase() === wanted);
    return alias ? c.json(alias) : notFound();
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    route(
      method,
      `${S}/sendAs/:email`,
      GMAIL_SCOPES.settingsSharing,
      method === 'PUT' ? 'UpdateSendAs' : 'PatchSendAs',
      async (c, { mailbox }) => {
        const body = await readJson(c, sendAsSchema);
        if (body instanceof Response) return body;
        const wanted = (c.req.param('email') ?? '').toLowerCase();
        const alias = mailbox.settings.sendAs.find((entry) => entry.sendAsEmail.toLowerCase() === wanted);
        if (!alias) return notFound();
        if (body.displayName !== undefined) alias.displayName = body.displayName;
        if (body.replyToAddress !== undefined) alias.replyToAddress = body.replyToAddress;
        if (body.signature !== undefined) alias.signature = body.signature;
        return c.json(alias);
      },
    );
  }

  for (const setting of ['vacation', 'imap', 'pop', 'language', 'autoForwarding'] as const) {
    const name = setting.charAt(0).toUpperCase() + setting.slice(1);
    route('GET', `${S}/${setting}`, GMAIL_SCOPES.settingsRead, `Get${name}`, (c, { mailbox }) =>
      c.json(mailbox.settings[setting]),
    );
    const scopes = setting === 'autoForwarding' ? GMAIL_SCOPES.settingsSharing.slice(1) : GMAIL_SCOPES.settingsWrite;
    route('PUT', `${S}/${setting}`, scopes, `Update${name}`, async (c, { mailbox }) => {
      const body = await readJson(c, looseObject);
      if (body instanceof Response) return body;
      mailbox.settings[setting] = { ...mailbox.settings[setting], ...body };
      return c.json(mailbox.settings[setting]);
    });
  }
}
