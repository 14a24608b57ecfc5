import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { labelIdsField, messageIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const modifyMessageLabels = defineTool({
  name: 'gmail_modify_message_labels',
  description:
    'Add and/or remove labels on one email: mark read (remove "UNREAD"), mark unread (add "UNREAD"), archive (remove "INBOX"), star (add "STARRED"), mark important (add "IMPORTANT"), or apply a user label (id from gmail_list_labels). For many messages use gmail_batch_modify_messages; for a whole conversation gmail_modify_thread_labels. Returns the message { id, threadId, labelIds } with its new labels.',
  input: z.object({
    message_id: messageIdField,
    add_label_ids: labelIdsField.optional().describe('Label ids to add, e.g. ["STARRED", "Label_12"].'),
    remove_label_ids: labelIdsField.optional().describe('Label ids to remove, e.g. ["UNREAD"].'),
  }),
  annotations: setsState('Change labels of email', false),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    const addLabelIds = input.add_label_ids ?? [];
    const removeLabelIds = input.remove_label_ids ?? [];
    if (addLabelIds.length === 0 && removeLabelIds.length === 0) {
      throw new AppError('tool_input_invalid', 'give add_label_ids and/or remove_label_ids');
    }
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl(`messages/${segment(input.message_id)}/modify`),
      body: { addLabelIds, removeLabelIds },
    });
  },
});
