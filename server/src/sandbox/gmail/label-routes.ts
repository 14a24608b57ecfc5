import { z } from 'zod';
import { googleError, invalidArgument, notFound } from '../google-errors.js';
import { labelWithCounts } from './format.js';
import type { Mailbox } from './mailbox.js';
import { noContent, readJson } from './routes-support.js';
import { G, type GmailRoutes } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

const labelSchema = z.object({
  name: z.string().optional(),
  messageListVisibility: z.enum(['show', 'hide']).optional(),
  labelListVisibility: z.enum(['labelShow', 'labelShowIfUnread', 'labelHide']).optional(),
  color: z.object({ textColor: z.string().optional(), backgroundColor: z.string().optional() }).optional(),
});

function nameTaken(mailbox: Mailbox, name: string, exceptId?: string): boolean {
  const wanted = name.trim().toLowerCase();
  return [...mailbox.labels.values()].some((label) => label.id !== exceptId && label.name.toLowerCase() === wanted);
}

const labelExists = () =>
  googleError(409, { message: 'Label name exists or conflicts', reason: 'duplicate', status: 'ALREADY_EXISTS' });

/** users.labels.*: list, get (with counts), create, update, patch and delete; system labels stay. */
export function registerLabelRoutes({ route }: GmailRoutes): void {
  route('GET', `${G}/labels`, GMAIL_SCOPES.labelsRead, 'ListLabels', (c, { mailbox }) =>
    c.json({ labels: [...mailbox.labels.values()] }),
  );

  route('GET', `${G}/labels/:id`, GMAIL_SCOPES.labelsRead, 'GetLabel', (c, { mailbox }) => {
    const label = labelWithCounts(mailbox, c.req.param('id') ?? '');
    return label ? c.json(label) : notFound();
  });

  route('POST', `${G}/labels`, GMAIL_SCOPES.labelsWrite, 'CreateLabel', async (c, { mailbox }) => {
    const body = await readJson(c, labelSchema);
    if (body instanceof Response) return body;
    const name = body.name?.trim();
    if (!name) return invalidArgument('Invalid label name');
    if (nameTaken(mailbox, name)) return labelExists();
    const label = mailbox.createLabel({
      name,
      messageListVisibility: body.messageListVisibility ?? 'show',
      labelListVisibility: body.labelListVisibility ?? 'labelShow',
      ...(body.color ? { color: body.color } : {}),
    });
    return c.json(label);
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    route(
      method,
      `${G}/labels/:id`,
      GMAIL_SCOPES.labelsWrite,
      method === 'PUT' ? 'UpdateLabel' : 'PatchLabel',
      async (c, { mailbox }) => {
        const body = await readJson(c, labelSchema);
        if (body instanceof Response) return body;
        const label = mailbox.labels.get(c.req.param('id') ?? '');
        if (!label) return notFound();
        if (label.type === 'system') return invalidArgument('Invalid update request');
        const name = body.name?.trim();
        if (method === 'PUT' && !name) return invalidArgument('Invalid label name');
        if (name !== undefined) {
          if (!name) return invalidArgument('Invalid label name');
          if (nameTaken(mailbox, name, label.id)) return labelExists();
          label.name = name;
        }
        if (body.messageListVisibility) label.messageListVisibility = body.messageListVisibility;
        if (body.labelListVisibility) label.labelListVisibility = body.labelListVisibility;
        if (body.color) label.color = body.color;
        return c.json(label);
      },
    );
  }

  route('DELETE', `${G}/labels/:id`, GMAIL_SCOPES.labelsWrite, 'DeleteLabel', (c, { mailbox }) => {
    const label = mailbox.labels.get(c.req.param('id') ?? '');
    if (!label) return notFound();
    if (label.type === 'system') return invalidArgument('Invalid delete request');
    mailbox.deleteLabel(label.id);
    return noContent();
  });
}
