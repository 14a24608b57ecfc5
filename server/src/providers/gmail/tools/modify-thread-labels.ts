import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { labelIdsField, threadIdField } from '../params.js';
import { MODIFY_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const modifyThreadLabels = defineTool({
  name: 'gmail_modify_thread_labels',
  description:
    'Add and/or remove labels on every message of a conversation at once: mark the thread read (remove "UNREAD"), archive it (remove "INBOX"), star it, or file it under a user label (id from gmail_list_labels). Returns the thread { id, messages: [{ id, threadId, labelIds }] }.',
  input: z.object({
    thread_id: threadIdField,
    add_label_ids: labelIdsField.optional().describe('Label ids to add to all messages of the thread.'),
    remove_label_ids: labelIdsField.optional().describe('Label ids to remove from all messages of the thread.'),
  }),
  annotations: setsState('Change labels of email thread', false),
  scopes: MODIFY_SCOPES,
  async run(input, ctx) {
    const addLabelIds = input.add_label_ids ?? [];
    const removeLabelIds = input.remove_label_ids ?? [];
    if (addLabelIds.length === 0 && removeLabelIds.length === 0) {
      throw new AppError('tool_input_invalid', 'give add_label_ids and/or remove_label_ids');
    }
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl(`threads/${segment(input.thread_id)}/modify`),
      body: { addLabelIds, removeLabelIds },
    });
  },
});
