import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { LABEL_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const listLabels = defineTool({
  name: 'gmail_list_labels',
  description:
    'List all labels of the mailbox: system labels (INBOX, SENT, UNREAD, STARRED, IMPORTANT, SPAM, TRASH, DRAFT, CATEGORY_*) and the user\'s own labels. Use it to turn a label name the user mentions into the label id other tools need. Returns { labels: [{ id, name, type ("system" | "user"), labelListVisibility?, messageListVisibility? }] }; message counts need gmail_get_label.',
  input: z.object({}),
  annotations: readOnly('List email labels'),
  scopes: LABEL_READ_SCOPES,
  async run(_input, ctx) {
    const answer = await ctx.api.request<{ labels?: unknown[] }>({ url: gmailUrl('labels') });
    return { labels: answer?.labels ?? [] };
  },
});
