import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { threadIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const untrashThread = defineTool({
  name: 'gmail_untrash_thread',
  description:
    'Restore a whole conversation from the Trash. Returns the thread { id, messages: [{ id, threadId, labelIds }] }.',
  input: z.object({ thread_id: threadIdField.describe('Id of the trashed thread to restore.') }),
  annotations: setsState('Restore email thread from Trash', false),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ method: 'POST', url: gmailUrl(`threads/${segment(input.thread_id)}/untrash`) });
  },
});
