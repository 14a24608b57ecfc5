import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { threadIdField } from '../params.js';
import { DELETE_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteThread = defineTool({
  name: 'gmail_delete_thread',
  description:
    'Permanently delete a whole conversation immediately, skipping the Trash. Cannot be undone: use gmail_trash_thread unless the user explicitly wants permanent deletion. Needs the full-access scope https://mail.google.com/. Returns { success: true, id }.',
  input: z.object({ thread_id: threadIdField.describe('Id of the thread to delete permanently.') }),
  annotations: deletes('Delete email thread permanently'),
  scopes: DELETE_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`threads/${segment(input.thread_id)}`) });
    return { success: true, id: input.thread_id };
  },
});
