import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { messageIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const untrashMessage = defineTool({
  name: 'gmail_untrash_message',
  description:
    'Restore one email from the Trash to where it was. For a whole conversation use gmail_untrash_thread. Returns the message { id, threadId, labelIds } without the TRASH label.',
  input: z.object({ message_id: messageIdField.describe('Id of the trashed message to restore.') }),
  annotations: setsState('Restore email from Trash', false),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ method: 'POST', url: gmailUrl(`messages/${segment(input.message_id)}/untrash`) });
  },
});
