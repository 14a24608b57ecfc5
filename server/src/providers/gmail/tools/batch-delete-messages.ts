import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { DELETE_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const batchDeleteMessages = defineTool({
  name: 'gmail_batch_delete_messages',
  description:
    'Permanently delete up to 1,000 emails at once, skipping the Trash. This cannot be undone: to clean up reversibly, use gmail_batch_modify_messages with add_label_ids ["TRASH"] or gmail_trash_message. Needs the full-access scope https://mail.google.com/. Returns { success: true, deleted: <count>, ids }.',
  input: z.object({
    message_ids: z
      .array(z.string().min(1))
      .min(1)
      .max(1000)
      .describe('Ids of the messages to delete permanently (1-1000).'),
  }),
  annotations: deletes('Delete emails permanently'),
  scopes: DELETE_SCOPES,
  async run(input, ctx) {
    const ids = [...new Set(input.message_ids)];
    await ctx.api.request({ method: 'POST', url: gmailUrl('messages/batchDelete'), body: { ids } });
    return { success: true, deleted: ids.length, ids };
  },
});
