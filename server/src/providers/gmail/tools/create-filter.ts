import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { labelIdsField } from '../params.js';
import { SETTINGS_BASIC_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const createFilter = defineTool({
  name: 'gmail_create_filter',
  description: [
    'Create a filter: a rule Gmail applies to every future incoming message that matches (not to mail already received).',
    'Give at least one criterion (from, to, subject, query, has_attachment) and at least one action (labels, archive, mark read, star, trash, importance, never spam, forward).',
    'Example: from "news@shop.example" + should_archive + add_label_ids ["Label_7"]. Returns the filter { id, criteria, action }.',
  ].join(' '),
  input: z.object({
    from: z
      .string()
      .optional()
      .describe('Match mail from this sender (address, name or domain), e.g. "alerts@bank.example".'),
    to: z.string().optional().describe('Match mail sent to this recipient (To/Cc).'),
    subject: z.string().optional().describe('Match mail whose subject contains this text.'),
    query: z
      .string()
      .optional()
      .describe('Match mail by a Gmail search query, e.g. "invoice OR receipt -in:chats" or "larger:5M".'),
    has_attachment: z.boolean().optional().describe('Match only mail with attachments.'),
    add_label_ids: labelIdsField
      .optional()
      .describe('Label ids to apply to matching mail (user labels from gmail_list_labels, or e.g. "STARRED").'),
    remove_label_ids: labelIdsField.optional().describe('Label ids to remove from matching mail.'),
    forward: z
      .email()
      .optional()
      .describe('Forward matching mail to this address; it must be a verified forwarding address.'),
    should_archive: z.boolean().optional().describe('Skip the inbox (archive).'),
    should_mark_read: z.boolean().optional().describe('Mark as read.'),
    should_star: z.boolean().optional().describe('Star it.'),
    should_trash: z.boolean().optional().describe('Move it to the Trash.'),
    should_always_mark_important: z.boolean().optional().describe('Always mark it important.'),
    should_never_mark_important: z.boolean().optional().describe('Never mark it important.'),
    should_never_spam: z.boolean().optional().describe('Never send it to Spam.'),
  }),
  annotations: creates('Create email filter'),
  scopes: SETTINGS_BASIC_SCOPES,
  async run(input, ctx) {
    const criteria = {
      ...(input.from?.trim() ? { from: input.from.trim() } : {}),
      ...(input.to?.trim() ? { to: input.to.trim() } : {}),
      ...(input.subject?.trim() ? { subject: input.subject.trim() } : {}),
      ...(input.query?.trim() ? { query: input.query.trim() } : {}),
      ...(input.has_attachment ? { hasAttachment: true } : {}),
    };
    if (Object.keys(criteria).length === 0) {
      throw new AppError(
        'tool_input_invalid',
        'give at least one criterion: from, to, subject, query or has_attachment',
      );
    }
    if (input.should_always_mark_important && input.should_never_mark_important) {
      throw new AppError(
        'tool_input_invalid',
        'should_always_mark_important and should_never_mark_important cannot both be true',
      );
    }
    const add = new Set(input.add_label_ids ?? []);
    const remove = new Set(input.remove_label_ids ?? []);
    if (input.should_archive) remove.add('INBOX');
    if (input.should_mark_read) remove.add('UNREAD');
    if (input.should_star) add.add('STARRED');
    if (input.should_trash) add.add('TRASH');
    if (input.should_always_mark_important) add.add('IMPORTANT');
    if (input.should_never_mark_important) remove.add('IMPORTANT');
    if (input.should_never_spam) remove.add('SPAM');
    const clash = [...add].filter((label) => remove.has(label));
    if (clash.length > 0) {
      throw new AppError('tool_input_invalid', `labels both added and removed: ${clash.join(', ')}`);
    }
    const action = {
      ...(add.size ? { addLabelIds: [...add] } : {}),
      ...(remove.size ? { removeLabelIds: [...remove] } : {}),
      ...(input.forward ? { forward: input.forward } : {}),
    };
    if (Object.keys(action).length === 0) {
      throw new AppError(
        'tool_input_invalid',
        'give at least one action: labels to add/remove, a should_* flag, or forward',
      );
    }
    return ctx.api.request({ method: 'POST', url: gmailUrl('settings/filters'), body: { criteria, action } });
  },
});
