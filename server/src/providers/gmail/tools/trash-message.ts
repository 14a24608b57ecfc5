import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { messageIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const trashMessage = defineTool({
  name: 'gmail_trash_message',
  description:
    'Move one email to the Trash (Gmail deletes it for good after 30 days). Reversible with gmail_untrash_message; prefer this over gmail_delete_message. For a whole conversation use gmail_trash_thread. Returns the message { id, threadId, labelIds } with the TRASH label.',
  input: z.object({ message_id: messageIdField.describe('Id of the message to move to Trash.') }),
  annotations: setsState('Trash email', true),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ method: 'POST', url: gmailUrl(`messages/${segment(input.message_id)}/trash`) });
  },
});
