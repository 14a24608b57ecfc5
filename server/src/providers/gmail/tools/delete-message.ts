import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { messageIdField } from '../params.js';
import { DELETE_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteMessage = defineTool({
  name: 'gmail_delete_message',
  description:
    'Permanently delete one email immediately, skipping the Trash. This cannot be undone: use gmail_trash_message unless the user explicitly wants permanent deletion. Needs the full-access scope https://mail.google.com/. Returns { success: true, id }.',
  input: z.object({ message_id: messageIdField.describe('Id of the message to delete permanently.') }),
  annotations: deletes('Delete email permanently'),
  scopes: DELETE_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`messages/${segment(input.message_id)}`) });
    return { success: true, id: input.message_id };
  },
});
