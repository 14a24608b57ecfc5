import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { threadIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const trashThread = defineTool({
  name: 'gmail_trash_thread',
  description:
    'Move a whole conversation (every message in it) to the Trash. Reversible with gmail_untrash_thread within 30 days. Returns the thread { id, messages: [{ id, threadId, labelIds }] }.',
  input: z.object({ thread_id: threadIdField.describe('Id of the thread to move to Trash.') }),
  annotations: setsState('Trash email thread', true),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ method: 'POST', url: gmailUrl(`threads/${segment(input.thread_id)}/trash`) });
  },
});
