import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SandboxUser } from '../context.js';
import { invalidArgument, notFound } from '../google-errors.js';
import { registerDelegateRoutes } from './delegates.js';
import { registerForwardingAddressRoutes } from './forwarding-addresses.js';
import { noContent, readJson } from './routes-support.js';
import type { GmailRoute } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';
import { registerSendAsRoutes } from './send-as.js';

/** users.settings.*: filters, vacation, IMAP, POP, language, auto-forwarding; the sharing settings live beside. */

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

const looseObject = z.record(z.string(), z.unknown());

export function registerSettingsRoutes(route: GmailRoute, G: string, users: readonly SandboxUser[]): void {
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

  registerForwardingAddressRoutes(route, S, users);
  registerSendAsRoutes(route, S, users);
  registerDelegateRoutes(route, S, users);

  for (const setting of ['vacation', 'imap', 'pop', 'language', 'autoForwarding'] as const) {
    const name = setting.charAt(0).toUpperCase() + setting.slice(1);
    route('GET', `${S}/${setting}`, GMAIL_SCOPES.settingsRead, `Get${name}`, (c, { mailbox }) =>
      c.json(mailbox.settings[setting]),
    );
    const scopes = setting === 'autoForwarding' ? GMAIL_SCOPES.settingsSharing : GMAIL_SCOPES.settingsWrite;
    route('PUT', `${S}/${setting}`, scopes, `Update${name}`, async (c, { mailbox }) => {
      const body = await readJson(c, looseObject);
      if (body instanceof Response) return body;
      mailbox.settings[setting] = { ...mailbox.settings[setting], ...body };
      return c.json(mailbox.settings[setting]);
    });
  }
}
