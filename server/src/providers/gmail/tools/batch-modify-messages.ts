import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { labelIdsField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const batchModifyMessages = defineTool({
  name: 'gmail_batch_modify_messages',
  description:
    'Add and/or remove labels on up to 1,000 emails at once: mark read (remove "UNREAD"), mark unread (add "UNREAD"), archive (remove "INBOX"), star (add "STARRED"), move to Trash (add "TRASH"), or apply a user label (id from gmail_list_labels). For one message use gmail_modify_message_labels. Returns { success: true, modified: <count>, ids, addLabelIds, removeLabelIds }.',
  input: z.object({
    message_ids: z.array(z.string().min(1)).min(1).max(1000).describe('Ids of the messages to change (1-1000).'),
    add_label_ids: labelIdsField.optional().describe('Label ids to add to every message, e.g. ["STARRED"].'),
    remove_label_ids: labelIdsField
      .optional()
      .describe('Label ids to remove from every message, e.g. ["UNREAD", "INBOX"].'),
  }),
  annotations: setsState('Change labels of emails', false),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    const addLabelIds = input.add_label_ids ?? [];
    const removeLabelIds = input.remove_label_ids ?? [];
    if (addLabelIds.length === 0 && removeLabelIds.length === 0) {
      throw new AppError('tool_input_invalid', 'give add_label_ids and/or remove_label_ids');
    }
    const ids = [...new Set(input.message_ids)];
    await ctx.api.request({
      method: 'POST',
      url: gmailUrl('messages/batchModify'),
      body: { ids, addLabelIds, removeLabelIds },
    });
    return { success: true, modified: ids.length, ids, addLabelIds, removeLabelIds };
  },
});
